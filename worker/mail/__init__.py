"""Reading email: parsing raw RFC 822 bytes and deciding what a message is."""
