"""Task lists (清单) and their tasks, issued down the levels and reported back up (调度)."""
