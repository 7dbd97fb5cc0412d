"""Publishing built datasets to, and loading them from, the Hugging Face Hub."""
