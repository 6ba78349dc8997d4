"""The ``ranet`` commands: flops, classify, evaluate, train, average and bench, built on the library."""

from ..threads import limit_openmp_spinning

limit_openmp_spinning()  # here, before any command module imports torch
