"""Visemes: phonemes or audio to a timeline of Oculus visemes and ARKit blendshape weights."""
