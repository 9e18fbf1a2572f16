#include "textflag.h"

// func prefetchMarks(data *byte, marks *uint32, n int)
TEXT ·prefetchMarks(SB), NOSPLIT|NOFRAME, $0-24
	MOVQ data+0(FP), AX
	MOVQ marks+8(FP), BX
	MOVQ n+16(FP), CX

loop:
	CMPQ CX, $0
	JLE  done
	MOVL (BX), DX
	PREFETCHT0 (AX)(DX*1)
	ADDQ $8, BX
	SUBQ $2, CX
	JMP  loop

done:
	RET
