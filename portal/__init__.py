"""JTAI evidence portal: the backend through which local agencies hand documents to a joint inspection."""
