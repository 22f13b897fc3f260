//go:build !linux

package disk

import "os"

// openRead opens key for reading, confined to the media directory.
func (s *Store) openRead(key string) (*os.File, error) { return s.root.Open(key) }
