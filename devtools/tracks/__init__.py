"""Tracks: parallel copies of the stack (branches, worktrees, agents) on one machine."""
