package mount

import (
	"context"
	"time"

	"github.com/alilink/alilink/resolver"
)

// SharedLinksOf gives one mount its part of an account's shared link cache
// (Redis): the file ids of two drives of one account (or of a share) may be
// equal, so each drive's keys carry its name, e.g. "resource" or
// "share:<share id>". Two mounts of the same drive (at different root
// folders) share their links, as they should. nil stays nil.
func SharedLinksOf(links resolver.SharedLinks, drive string) resolver.SharedLinks {
	if links == nil {
		return nil
	}
	return keyedLinks{links: links, key: drive + ":"}
}

type keyedLinks struct {
	links resolver.SharedLinks
	key   string
}

func (k keyedLinks) GetLink(ctx context.Context, fileID string) (resolver.Link, bool, error) {
	return k.links.GetLink(ctx, k.key+fileID)
}

func (k keyedLinks) PutLink(ctx context.Context, fileID string, l resolver.Link, ttl time.Duration) error {
	return k.links.PutLink(ctx, k.key+fileID, l, ttl)
}

func (k keyedLinks) LockLink(ctx context.Context, fileID string, lease time.Duration) (func(), bool, error) {
	return k.links.LockLink(ctx, k.key+fileID, lease)
}

func (k keyedLinks) DeleteLink(ctx context.Context, fileID string) error {
	return k.links.DeleteLink(ctx, k.key+fileID)
}
