package pdf

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"fmt"
	"sort"
	"strconv"
)

// The incremental writer appends new and replaced objects after the original bytes, followed by
// a cross-reference section of the same kind as the previous one (table or stream), with /Prev
// pointing at the previous section. The original bytes are never rewritten, so earlier
// signatures stay valid.
//
// Why not pdfcpu's writer: it drops /Reference (DocMDP) and /Prop_Build from signature
// dictionaries, recycles free object numbers with generation 0, writes non-ASCII strings as raw
// UTF-8, and needs the whole document in memory.

// increment collects the objects of one incremental update. The whole increment is built in
// memory (it holds only new objects: the seal image, widgets, the signature dictionary), never
// a copy of the document.
type increment struct {
	base    *View
	size    int64 // original file size (the increment starts there)
	nextNum int
	objs    []incObj
	// sigNum is the object number of the signature dictionary (written with a placeholder).
	sigNum     int
	sigDict    Dict
	contentsSz int // placeholder size in bytes (hex doubles it)
}

type incObj struct {
	num  int
	gen  int
	obj  Object // Dict, Array, ... or *Stream with Data
	kind int
}

func newIncrement(v *View, size int64) *increment {
	next := v.Size()
	// Never recycle numbers: start above every number any xref section mentions.
	for _, s := range v.chain {
		for n := range s.Entries {
			if n+1 > next {
				next = n + 1
			}
		}
		if s.Hybrid != nil {
			for n := range s.Hybrid.Entries {
				if n+1 > next {
					next = n + 1
				}
			}
		}
	}
	if next < 1 {
		next = 1
	}
	return &increment{base: v, size: size, nextNum: next, sigNum: -1}
}

// alloc reserves a new object number.
func (inc *increment) alloc() Ref {
	r := Ref{Num: inc.nextNum}
	inc.nextNum++
	return r
}

// add adds a new object and returns its reference.
func (inc *increment) add(o Object) Ref {
	r := inc.alloc()
	inc.objs = append(inc.objs, incObj{num: r.Num, obj: o})
	return r
}

// set writes object r (new or a replacement of an existing one, same number and generation).
func (inc *increment) set(r Ref, o Object) {
	for i := range inc.objs {
		if inc.objs[i].num == r.Num {
			inc.objs[i].obj = o
			inc.objs[i].gen = r.Gen
			return
		}
	}
	inc.objs = append(inc.objs, incObj{num: r.Num, gen: r.Gen, obj: o})
}

// get returns the current value of r: the increment's replacement if any, else the base view's.
func (inc *increment) get(r Ref) Object {
	for _, o := range inc.objs {
		if o.num == r.Num {
			return o.obj
		}
	}
	o, _ := inc.base.Get(r)
	return o
}

// flateStream makes a Flate-compressed stream object.
func flateStream(d Dict, data []byte) *Stream {
	var b bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&b, zlib.DefaultCompression)
	zw.Write(data)
	zw.Close()
	nd := Dict{}
	for k, v := range d {
		nd[k] = v
	}
	nd["Filter"] = Name("FlateDecode")
	return &Stream{Dict: nd, Data: b.Bytes(), Length: int64(b.Len())}
}

// layout is the serialised increment plus where the placeholders are.
type layout struct {
	buf           []byte
	byteRangePos  int // offset in buf of the ByteRange placeholder ("[" ...)
	byteRangeLen  int
	contentsStart int // offset in buf of "<" of /Contents
	contentsEnd   int // offset after ">"
}

const byteRangeWidth = 64

// serialise writes the objects, the xref section and the trailer. prefixEOL is added when the
// original does not end with an end-of-line.
func (inc *increment) serialise(prefixEOL bool) (*layout, error) {
	lay := &layout{byteRangePos: -1, contentsStart: -1}
	buf := make([]byte, 0, 64<<10)
	if prefixEOL {
		buf = append(buf, '\n')
	}
	offsets := map[int]int64{}
	gens := map[int]int{}
	sort.SliceStable(inc.objs, func(i, j int) bool { return inc.objs[i].num < inc.objs[j].num })
	for _, o := range inc.objs {
		offsets[o.num] = inc.size + int64(len(buf))
		gens[o.num] = o.gen
		buf = strconv.AppendInt(buf, int64(o.num), 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, int64(o.gen), 10)
		buf = append(buf, " obj\n"...)
		switch v := o.obj.(type) {
		case *Stream:
			d := Dict{}
			for k, x := range v.Dict {
				d[k] = x
			}
			d["Length"] = Int(len(v.Data))
			buf = appendDict(buf, d)
			buf = append(buf, "\nstream\n"...)
			buf = append(buf, v.Data...)
			buf = append(buf, "\nendstream"...)
		default:
			if o.num == inc.sigNum {
				buf = inc.appendSigDict(buf, lay)
			} else {
				buf = appendObject(buf, v)
			}
		}
		buf = append(buf, "\nendobj\n"...)
	}
	prevXref := inc.base.StartXref
	last := inc.base.chain[0]
	trailer := Dict{"Size": Int(inc.nextNum), "Root": inc.base.Trailer["Root"], "Prev": Int(prevXref)}
	for _, k := range []Name{"Info", "ID"} {
		if v, ok := inc.base.Trailer[k]; ok {
			trailer[k] = v
		}
	}
	if _, ok := trailer["ID"]; !ok {
		// A file identifier lets later revisions be matched to this one (PAdES recommends it).
		h := md5.Sum(buf)
		trailer["ID"] = Array{String{B: h[:], Hex: true}, String{B: h[:], Hex: true}}
	}
	xrefOff := inc.size + int64(len(buf))
	if last.Stream {
		// Same kind as the previous section: an xref stream, which must list itself.
		self := inc.nextNum
		inc.nextNum++
		trailer["Size"] = Int(inc.nextNum)
		offsets[self] = xrefOff
		gens[self] = 0
		nums := sortedKeys(offsets)
		w2 := 4
		if xrefOff > 0xffffffff {
			w2 = 8
		}
		var data []byte
		var index Array
		for i := 0; i < len(nums); {
			j := i
			for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
				j++
			}
			index = append(index, Int(nums[i]), Int(j-i+1))
			for k := i; k <= j; k++ {
				data = append(data, 1)
				off := offsets[nums[k]]
				for b := w2 - 1; b >= 0; b-- {
					data = append(data, byte(off>>(8*b)))
				}
				g := gens[nums[k]]
				data = append(data, byte(g>>8), byte(g))
			}
			i = j + 1
		}
		d := Dict{"Type": Name("XRef"), "W": Array{Int(1), Int(w2), Int(2)}, "Index": index, "Length": Int(len(data))}
		for k, v := range trailer {
			d[k] = v
		}
		buf = strconv.AppendInt(buf, int64(self), 10)
		buf = append(buf, " 0 obj\n"...)
		buf = appendDict(buf, d)
		buf = append(buf, "\nstream\n"...)
		buf = append(buf, data...)
		buf = append(buf, "\nendstream\nendobj\n"...)
	} else {
		buf = append(buf, "xref\n"...)
		nums := sortedKeys(offsets)
		for i := 0; i < len(nums); {
			j := i
			for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
				j++
			}
			buf = append(buf, fmt.Sprintf("%d %d\n", nums[i], j-i+1)...)
			for k := i; k <= j; k++ {
				buf = append(buf, fmt.Sprintf("%010d %05d n\r\n", offsets[nums[k]], gens[nums[k]])...)
			}
			i = j + 1
		}
		buf = append(buf, "trailer\n"...)
		buf = appendDict(buf, trailer)
		buf = append(buf, '\n')
	}
	buf = append(buf, "startxref\n"...)
	buf = strconv.AppendInt(buf, xrefOff, 10)
	buf = append(buf, "\n%%EOF\n"...)
	lay.buf = buf
	return lay, nil
}

func sortedKeys(m map[int]int64) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// appendSigDict writes the signature dictionary with a fixed-width /ByteRange placeholder and
// a zero-filled /Contents hex string, recording both positions for patching.
func (inc *increment) appendSigDict(buf []byte, lay *layout) []byte {
	d := Dict{}
	for k, v := range inc.sigDict {
		if k != "ByteRange" && k != "Contents" {
			d[k] = v
		}
	}
	b := appendDict(nil, d)
	// drop the closing ">>" to append the two placeholders last
	buf = append(buf, b[:len(b)-2]...)
	buf = append(buf, "/ByteRange "...)
	lay.byteRangePos = len(buf)
	lay.byteRangeLen = byteRangeWidth
	buf = append(buf, '[')
	for i := 0; i < byteRangeWidth-2; i++ {
		buf = append(buf, ' ')
	}
	buf = append(buf, ']')
	buf = append(buf, "/Contents "...)
	lay.contentsStart = len(buf)
	buf = append(buf, '<')
	for i := 0; i < 2*inc.contentsSz; i++ {
		buf = append(buf, '0')
	}
	buf = append(buf, '>')
	lay.contentsEnd = len(buf)
	return append(buf, ">>"...)
}

// patchByteRange writes the final /ByteRange into the placeholder.
func (lay *layout) patchByteRange(br [4]int64) error {
	s := fmt.Sprintf("[%d %d %d %d]", br[0], br[1], br[2], br[3])
	if len(s) > lay.byteRangeLen {
		return fmt.Errorf("ByteRange %s does not fit its placeholder", s)
	}
	for len(s) < lay.byteRangeLen {
		s = s[:len(s)-1] + " ]"
	}
	copy(lay.buf[lay.byteRangePos:], s)
	return nil
}
