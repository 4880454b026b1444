"""Performance benchmarks. Each script sets Django up itself, on a database of its own."""
