"""Record the bundled sample captures from real protocol stacks on loopback.

Everything is driven by a seeded schedule of (time, actor, action) so that the content of a
recording depends only on the seed; see ``schedule.py`` for the time compression.
"""
