// Package pathwatch tells a file lock's leader when the lock file's name
// may have been deleted, replaced or moved (inotify on Linux; elsewhere
// New fails and the leader polls), and reserves, before the lock file is
// opened, the descriptor number its inotify instance will take (see Slot).
package pathwatch
