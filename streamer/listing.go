package streamer

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/alilink/alilink/resolver"
)

// listingJSON is a folder's answer: every child, across all of the drive's pages.
type listingJSON struct {
	Path  string      `json:"path"`
	Items []entryJSON `json:"items"`
}

type entryJSON struct {
	Name     string     `json:"name"`
	Type     string     `json:"type"` // "file" or "folder"
	Size     int64      `json:"size"`
	Modified *time.Time `json:"modified,omitempty"`
	// Href is the child's path, percent-encoded, ready to put in a URL.
	Href        string `json:"href"`
	ContentHash string `json:"content_hash,omitempty"`
}

// serveListing answers a folder's JSON listing. When signs are required, each
// href carries a sign for the child with the expiry of the request's own, so
// a signed folder link can be browsed (and shares what is below it).
func (s *Server) serveListing(ctx *fasthttp.RequestCtx, dc context.Context, p string, exp int64) {
	_, children, err := s.res.List(dc, p)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	out := listingJSON{Path: p, Items: make([]entryJSON, 0, len(children))}
	prefix := dirSlash(p)
	for i := range children {
		c := &children[i]
		child := prefix + c.Name
		e := entryJSON{Name: c.Name, Type: "file", Size: c.Size, Href: resolver.EscapePath(child), ContentHash: c.ContentHash}
		if c.Folder {
			e.Type = "folder"
			e.Href += "/"
		}
		e.Href += s.signer.Query(child, exp)
		if !c.Modified.IsZero() {
			m := c.Modified.UTC()
			e.Modified = &m
		}
		out.Items = append(out.Items, e)
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}
