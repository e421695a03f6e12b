"""Related cases: the same people in other cases of the network (see ``services``)."""
