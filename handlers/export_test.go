package handlers

// WriteBufferSize lets the external tests check that pages fit it.
const WriteBufferSize = writeBufferSize
