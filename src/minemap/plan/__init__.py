"""Land-release planning: priorities, survey targets, a clearance schedule, forecasts, what-if.

Public entry points (each takes a :class:`~minemap.plan.inputs.PlanContext`
made by :func:`~minemap.plan.inputs.load_context` from a store and a hazard
map, or built from frames for tests):

* :mod:`minemap.plan.catalogue`: the asset catalogue (productivity, limits, seasons, costs);
* :mod:`minemap.plan.prioritise`: a score per hazard, explained term by term, with sensitivity;
* :mod:`minemap.plan.survey`: the next areas for survey teams, re-ranked around new results;
* :mod:`minemap.plan.schedule`: assets to hazards month by month, with the gap to a bound;
* :mod:`minemap.plan.forecast`: completion dates P10/P50/P90 and casualties by Monte Carlo;
* :mod:`minemap.plan.whatif`: the forecast with assets added, removed or bought;
* :mod:`minemap.plan.simulate`: strategies replayed against a scenario's truth.
"""
