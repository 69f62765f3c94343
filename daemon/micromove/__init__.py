"""micromove: a desk-movement companion.

Watches how long you type and mouse (counts and times only), and cues short
micro-movements at natural pauses in your input.
"""

__version__ = "0.1.0"
