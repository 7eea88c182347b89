"""Scanner drivers: device -> framing. Each module registers its driver kind."""
