package pdfium

import (
	"container/list"
	"image"
	"sync"
)

// imageCache keeps rendered pages, least recently used out first, within a byte budget. The
// preview scrolls back and forth over the same pages; re-rendering them would cost 10–200 ms each.
type imageCache struct {
	mu    sync.Mutex
	limit int64
	used  int64
	ll    *list.List
	items map[cacheKey]*list.Element
}

type cacheKey struct {
	doc  uint64
	page int
	w, h int
}

type cacheEntry struct {
	key cacheKey
	img *image.RGBA
}

const defaultImageCacheBytes = 64 << 20

func newImageCache(limit int64) *imageCache {
	if limit == 0 {
		limit = defaultImageCacheBytes
	}
	return &imageCache{limit: limit, ll: list.New(), items: map[cacheKey]*list.Element{}}
}

func (c *imageCache) get(k cacheKey) *image.RGBA {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*cacheEntry).img
	}
	return nil
}

func (c *imageCache) put(k cacheKey, img *image.RGBA) {
	size := int64(len(img.Pix))
	c.mu.Lock()
	defer c.mu.Unlock()
	// An image larger than the whole budget would only evict everything else.
	if c.limit <= 0 || size > c.limit {
		return
	}
	if el, ok := c.items[k]; ok {
		c.used -= int64(len(el.Value.(*cacheEntry).img.Pix))
		el.Value.(*cacheEntry).img = img
		c.used += size
		c.ll.MoveToFront(el)
	} else {
		c.items[k] = c.ll.PushFront(&cacheEntry{key: k, img: img})
		c.used += size
	}
	for c.used > c.limit {
		el := c.ll.Back()
		e := el.Value.(*cacheEntry)
		c.ll.Remove(el)
		delete(c.items, e.key)
		c.used -= int64(len(e.img.Pix))
	}
}

// dropDoc forgets every page of a closed document.
func (c *imageCache) dropDoc(doc uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.items {
		if k.doc == doc {
			c.ll.Remove(el)
			delete(c.items, k)
			c.used -= int64(len(el.Value.(*cacheEntry).img.Pix))
		}
	}
}

// Bytes reports the cache's current size.
func (c *imageCache) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
