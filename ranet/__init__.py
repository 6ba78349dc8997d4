"""RANet: Resolution Adaptive Networks (CVPR 2020)."""
