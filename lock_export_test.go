package solocron

// PollOnly makes f's leaders poll the lock file's name every
// CheckInterval even where inotify is available, so that the tests cover
// the fallback too.
func PollOnly(f *FileLock) *FileLock {
	f.pollOnly = true
	return f
}
