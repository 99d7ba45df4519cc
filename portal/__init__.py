"""JTAI evidence portal: local agencies hand documents to a joint targeted area inspection."""
