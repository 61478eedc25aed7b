"""What happens to one received message: parse, classify, file it on the right customer."""
