package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	nineten "nineten.dev"
	"nineten.dev/blob/disk"
	"nineten.dev/blob/s3"
)

// blobStore is a media store the node closes when it stops.
type blobStore interface {
	nineten.BlobStore
	Close() error
}

// openBlobs opens where the node keeps media: --blob, an s3:// URL or a
// directory, by default the media directory in --data.
func openBlobs(ctx context.Context, o options) (blobStore, error) {
	where := o.Blob
	if where == "" {
		where = filepath.Join(o.Data, "media")
	}
	var store blobStore
	switch {
	case strings.HasPrefix(where, "s3://"):
		c, err := s3.ParseURL(where)
		if err != nil {
			return nil, err
		}
		if store, err = s3.Open(ctx, c); err != nil {
			return nil, err
		}
	case strings.Contains(where, "://"):
		return nil, fmt.Errorf("--blob %s: give a directory or s3://bucket?endpoint=host:port", where)
	default:
		d, err := disk.Open(where)
		if err != nil {
			return nil, err
		}
		store = d
	}
	if _, ok := store.(*s3.Store); o.MediaRedirect && !ok {
		store.Close()
		return nil, fmt.Errorf("--media-redirect needs media on S3 (--blob s3://…): the node serves media from a directory itself")
	}
	return store, nil
}
