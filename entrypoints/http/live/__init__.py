"""The live-event WebSocket: its protocol (messages and close codes) and its session."""
