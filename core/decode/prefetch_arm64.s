#include "textflag.h"

// func prefetchMarks(data *byte, marks *uint32, n int)
TEXT ·prefetchMarks(SB), NOSPLIT|NOFRAME, $0-24
	MOVD data+0(FP), R0
	MOVD marks+8(FP), R1
	MOVD n+16(FP), R2

loop:
	CMP  $0, R2
	BLE  done
	MOVWU (R1), R3
	ADD  R0, R3, R4
	PRFM (R4), PLDL1KEEP
	ADD  $8, R1
	SUB  $2, R2
	B    loop

done:
	RET
