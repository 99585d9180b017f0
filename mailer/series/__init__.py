"""The series folder read into frozen values, and the pure rules of what is due."""
