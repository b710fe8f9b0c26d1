"""The history every figure is computed from, and the one way in for every change to it.

``recorder`` writes single changes (a new lead, a stage change with its outcome, an
activity, an objection, a later touch, a ladder edit), ``bulk`` many rows at once; both
hand each change, in the writer's transaction, to the registered ``projections`` (the
funnel summaries), which can be rebuilt and verified against their reference computation.
"""
