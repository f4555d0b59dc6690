"""The face-enhance pipeline: GFPGAN or CodeFormer on the faces of a photo or a video."""
