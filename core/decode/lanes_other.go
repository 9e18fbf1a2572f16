//go:build !amd64

package decode

func asmLanes([]skipOp) bool { return false }

// run4fast is run4: the assembly is for amd64 only.
func (p *skipProgram) run4fast(ra, rb, rc, rd *reader, marks *[4][]uint32) int {
	return p.run4(ra, rb, rc, rd, marks)
}
