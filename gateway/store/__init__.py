"""The gateway's local store: the only module that writes SQL on the gateway."""
