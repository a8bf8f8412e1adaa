package ofd

import (
	"fmt"
	"strconv"

	"github.com/tdewolff/canvas"
)

// maxPathNumbers bounds one AbbreviatedData (the largest real path seen has a few thousand).
const maxPathNumbers = 1 << 20

// ParsePathData parses AbbreviatedData (S/M/L/Q/B/A/C) into a path in object space (y down, as
// the file gives it). Numbers glued to operators and operands repeated without an operator
// are accepted; an operator with missing operands ends the path there with an error.
func ParsePathData(s string) (*canvas.Path, error) {
	p := &canvas.Path{}
	var op byte
	var nums []float64
	started := false
	count := 0
	apply := func() error {
		need := map[byte]int{'S': 2, 'M': 2, 'L': 2, 'Q': 4, 'B': 6, 'A': 7, 'C': 0}[op]
		if op == 0 {
			if len(nums) > 0 {
				return fmt.Errorf("numbers before the first operator")
			}
			return nil
		}
		if op == 'C' {
			if started {
				p.Close()
			}
			if len(nums) > 0 {
				return fmt.Errorf("numbers after C")
			}
			return nil
		}
		if len(nums) == 0 || len(nums)%need != 0 {
			return fmt.Errorf("operator %c needs %d numbers, has %d", op, need, len(nums))
		}
		for i := 0; i < len(nums); i += need {
			v := nums[i : i+need]
			switch op {
			case 'S', 'M':
				if i == 0 {
					p.MoveTo(v[0], v[1])
				} else {
					p.LineTo(v[0], v[1])
				}
			case 'L':
				if !started {
					p.MoveTo(0, 0)
				}
				p.LineTo(v[0], v[1])
			case 'Q':
				if !started {
					p.MoveTo(0, 0)
				}
				p.QuadTo(v[0], v[1], v[2], v[3])
			case 'B':
				if !started {
					p.MoveTo(0, 0)
				}
				p.CubeTo(v[0], v[1], v[2], v[3], v[4], v[5])
			case 'A':
				if !started {
					p.MoveTo(0, 0)
				}
				p.ArcTo(v[0], v[1], v[2], v[3] != 0, v[4] != 0, v[5], v[6])
			}
			started = true
		}
		return nil
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
		case c == 'S' || c == 'M' || c == 'L' || c == 'Q' || c == 'B' || c == 'A' || c == 'C':
			if err := apply(); err != nil {
				return p, err
			}
			op, nums = c, nums[:0]
			i++
		case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) {
				d := s[j]
				if (d >= '0' && d <= '9') || d == '.' || d == 'e' || d == 'E' ||
					((d == '-' || d == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
					j++
					continue
				}
				break
			}
			v, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil || v != v || v > 1e9 || v < -1e9 {
				return p, fmt.Errorf("bad number %q", s[i:j])
			}
			count++
			if count > maxPathNumbers {
				return p, fmt.Errorf("more than %d numbers", maxPathNumbers)
			}
			nums = append(nums, v)
			i = j
		default:
			return p, fmt.Errorf("unexpected %q", c)
		}
	}
	return p, apply()
}
