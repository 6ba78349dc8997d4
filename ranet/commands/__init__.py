"""The ``ranet`` commands: flops, classify, evaluate, train, average and bench, built on the library."""

from ..threads import prefer_passive_openmp

prefer_passive_openmp()  # here, before any command module imports torch
