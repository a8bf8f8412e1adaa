// Command winicon turns packaging/Icon.png into a Windows .ico for the executable's resources
// and the installer: 256, 48, 32 and 16 pixel images, each stored as a 32-bit RGBA PNG (the
// form Windows Vista and later read; the source PNG is palette-based, which Windows' icon
// loader does not promise to take).
//
// Usage: go run ./packaging/winicon IN.png OUT.ico
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"os"

	"golang.org/x/image/draw"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: winicon IN.png OUT.ico")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "winicon:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	src, err := png.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	sizes := []int{256, 48, 32, 16}
	var images [][]byte
	for _, s := range sizes {
		dst := image.NewNRGBA(image.Rect(0, 0, s, s))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		var b bytes.Buffer
		if err := png.Encode(&b, dst); err != nil {
			return err
		}
		images = append(images, b.Bytes())
	}
	// ICONDIR, then one ICONDIRENTRY per image, then the images.
	var ico bytes.Buffer
	le := binary.LittleEndian
	_ = binary.Write(&ico, le, [3]uint16{0, 1, uint16(len(sizes))})
	offset := 6 + 16*len(sizes)
	for i, s := range sizes {
		dim := uint8(s)
		if s == 256 {
			dim = 0 // 0 means 256
		}
		_ = binary.Write(&ico, le, struct {
			W, H, Colors, Reserved uint8
			Planes, BitCount       uint16
			Size, Offset           uint32
		}{dim, dim, 0, 0, 1, 32, uint32(len(images[i])), uint32(offset)})
		offset += len(images[i])
	}
	for _, b := range images {
		ico.Write(b)
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, ico.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
