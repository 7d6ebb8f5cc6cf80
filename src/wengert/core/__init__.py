"""The mechanism: levels of tracers, the one bind door, and the reverse-mode tape."""
