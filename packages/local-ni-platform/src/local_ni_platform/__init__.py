"""Local stand-ins for NI platform services, for machines without NI software."""
