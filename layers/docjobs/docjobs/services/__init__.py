"""Use cases, one module each; every function takes the Container it works with."""
