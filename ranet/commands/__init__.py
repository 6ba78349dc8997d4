"""The ``ranet`` commands: flops, classify, evaluate, train, average and bench, built on the library."""
