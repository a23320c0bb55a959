"""Developer kit, not shipped in the production image: the Slack emulator and `warroom console` on it."""
