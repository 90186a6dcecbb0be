"""What falls due on the sandbox clock: deletion windows ending, automatic rotations."""


def run_due(world):
    """Run everything due at world.now(); return the AwsServiceEvent records it wrote."""
    return []
