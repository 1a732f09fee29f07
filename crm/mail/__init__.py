"""Mail: reading what arrives, rendering and sending what leaves."""
