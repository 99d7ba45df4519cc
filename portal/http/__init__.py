"""HTTP plumbing shared by both doors (api/ and web/): problem+json responses, streaming
multipart reading, rate limits. It knows HTTP and the domain's errors, never a route."""
