"""The simulated cloud: plain Python, no Django. Run any call with calls.call()."""
