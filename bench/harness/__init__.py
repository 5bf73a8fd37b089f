"""chronicle's benchmark harness (bench/run)."""
