#include "textflag.h"

// skip4 is the fast paths of run4 (lanes.go) written out by hand: Go's register
// allocator kept neither the four lanes' positions nor the op pointer in
// registers, and the loop spent a third of its time on spills and reloads.
// Here every piece of state lives in a register, and each op kind has a
// handler of its own that ends by jumping straight to the handler of the next
// op (threaded code), so that each kind's indirect jump is predicted from what
// usually follows it rather than all sharing one.
//
// Registers, shared by skip4 and the handlers:
//	R8-R11   each lane's read pointer (its block's base + position)
//	SI       the op being run; DI one past the last op to run
//	R12      0x8080808080808080, the stop bits of a varint
//	R13      the handler table
//	AX BX CX DX R14 R15  scratch
// The handlers have no frame, so skip4's arguments stay where the caller put
// them: ops at 8(SP), st at 32(SP), the result at 40(SP).
//
// A handler checks every lane before it moves any: on any encoding it does not
// take (long varints and lengths, bad branch indexes, calls) it leaves all four
// at the start of the op and returns its index, and Go takes the op lane by lane.
// The nullable kinds rely on their two branch bytes being 0 and 2 (see
// asmLanes in lanes_amd64.go).

// Offsets in lanes4.
#define POS(k) (8*(k))
#define BASE(k) (32+8*(k))
#define MARKS(k) (64+8*(k))
#define TABLE 96

// NEXT moves to the next op and jumps to its handler, or returns at the end.
#define NEXT \
	ADDQ $8, SI; \
	CMPQ SI, DI; \
	JNE  2(PC); \
	JMP  skip4stop<>(SB); \
	MOVBLZX (SI), AX; \
	JMP  (R13)(AX*8)

// MOVE moves the lanes to the positions a handler computed in AX BX DX R14,
// once all four have passed its checks.
#define MOVE \
	MOVQ AX, R8; \
	MOVQ BX, R9; \
	MOVQ DX, R10; \
	MOVQ R14, R11

// HANDLER defines the handler name of an op kind whose work on one lane is the
// macro LANE(p, dst): dst = p moved past the value, or a jump to slow. CX and
// R15 are LANE's scratch.
#define HANDLER(name, LANE) \
TEXT name(SB), NOSPLIT|NOFRAME, $0; \
	LANE(R8, AX); \
	LANE(R9, BX); \
	LANE(R10, DX); \
	LANE(R11, R14); \
	MOVE; \
	NEXT; \
slow: \
	JMP skip4stop<>(SB)

// func skip4(ops *skipOp, from, n int, st *lanes4) int
TEXT ·skip4(SB), NOSPLIT, $0-40
	MOVQ ops+0(FP), SI
	MOVQ n+16(FP), DI
	LEAQ (SI)(DI*8), DI
	MOVQ from+8(FP), AX
	LEAQ (SI)(AX*8), SI
	MOVQ st+24(FP), BX
	MOVQ TABLE(BX), R13
	MOVQ POS(0)(BX), R8
	ADDQ BASE(0)(BX), R8
	MOVQ POS(1)(BX), R9
	ADDQ BASE(1)(BX), R9
	MOVQ POS(2)(BX), R10
	ADDQ BASE(2)(BX), R10
	MOVQ POS(3)(BX), R11
	ADDQ BASE(3)(BX), R11
	MOVQ $0x8080808080808080, R12
	CMPQ SI, DI
	JNE  2(PC)
	JMP  skip4stop<>(SB)
	MOVBLZX (SI), AX
	JMP  (R13)(AX*8)

// skip4stop stores the lanes' positions and returns the index of the op at SI.
TEXT skip4stop<>(SB), NOSPLIT|NOFRAME, $0
	MOVQ 32(SP), BX
	SUBQ BASE(0)(BX), R8
	MOVQ R8, POS(0)(BX)
	SUBQ BASE(1)(BX), R9
	MOVQ R9, POS(1)(BX)
	SUBQ BASE(2)(BX), R10
	MOVQ R10, POS(2)(BX)
	SUBQ BASE(3)(BX), R11
	MOVQ R11, POS(3)(BX)
	SUBQ 8(SP), SI
	SHRQ $3, SI
	MOVQ SI, 40(SP)
	RET

// skipFixed: n bytes.
TEXT skip4fixed<>(SB), NOSPLIT|NOFRAME, $0
	MOVLQSX 4(SI), AX
	ADDQ    AX, R8
	ADDQ    AX, R9
	ADDQ    AX, R10
	ADDQ    AX, R11
	NEXT

// VARINT sets dst to p past the varint at p, if it ends within 8 bytes.
#define VARINT(p, dst) \
	MOVQ  (p), CX; \
	NOTQ  CX; \
	ANDQ  R12, CX; \
	JZ    slow; \
	BSFQ  CX, CX; \
	SHRQ  $3, CX; \
	LEAQ  1(p)(CX*1), dst

HANDLER(skip4varint<>, VARINT)

// BYTES sets dst to p past a string or bytes value of a one-byte length.
#define BYTES(p, dst) \
	MOVBLZX (p), CX; \
	TESTB   $0x81, CX; \
	JNZ     slow; \
	SHRL    $1, CX; \
	LEAQ    1(p)(CX*1), dst

HANDLER(skip4bytes<>, BYTES)

// BRANCH loads the branch index at p into t and leaves the handler unless it is
// 0 or 2 (the one-byte encodings of indexes 0 and 1).
#define BRANCH(p, t) \
	MOVBLZX (p), t; \
	TESTB   $0xFD, t; \
	JNZ     slow

// NULLFIXED sets dst past a [null, fixed-size] union: the value's n bytes
// (4(SI)) are taken when the branch byte is not the null one (1(SI)).
#define NULLFIXED(p, dst) \
	BRANCH(p, CX); \
	XORB    1(SI), CX; \
	SHRL    $1, CX; \
	NEGQ    CX; \
	ANDL    4(SI), CX; \
	LEAQ    1(p)(CX*1), dst

HANDLER(skip4nullfixed<>, NULLFIXED)

// NULLVARINT sets dst past a [null, varint] union. XOR with the value's branch
// byte (2(SI)) leaves CX = 2 for null, 0 for a value. For null, CX ORed into the
// stop bits makes them nonzero whatever follows, and their lowest set bit 1, so
// the length comes out as 2 + 0 - 1: the branch byte alone.
#define NULLVARINT(p, dst) \
	BRANCH(p, CX); \
	XORB    2(SI), CX; \
	MOVQ    1(p), R15; \
	NOTQ    R15; \
	ANDQ    R12, R15; \
	ORQ     CX, R15; \
	JZ      slow; \
	BSFQ    R15, R15; \
	SHRQ    $3, R15; \
	SHRL    $1, CX; \
	SUBQ    CX, R15; \
	LEAQ    2(p)(R15*1), dst

HANDLER(skip4nullvarint<>, NULLVARINT)

// NULLBYTES sets dst past a [null, string or bytes] union of a one-byte length.
// After XOR with the null branch byte (1(SI)), CX is 2 for a value and 0 for
// null; shifted and negated, the mask -1 or 0 that keeps the length (and its
// check) only for a value.
#define NULLBYTES(p, dst) \
	BRANCH(p, CX); \
	XORB    1(SI), CX; \
	SHRL    $1, CX; \
	NEGQ    CX; \
	MOVBLZX 1(p), R15; \
	ANDL    CX, R15; \
	TESTB   $0x81, R15; \
	JNZ     slow; \
	SHRL    $1, R15; \
	INCL    R15; \
	ANDL    CX, R15; \
	LEAQ    1(p)(R15*1), dst

HANDLER(skip4nullbytes<>, NULLBYTES)

// skipNull: a branch byte of 0 or 2, nothing after it.
TEXT skip4null<>(SB), NOSPLIT|NOFRAME, $0
	BRANCH(R8, CX)
	BRANCH(R9, CX)
	BRANCH(R10, CX)
	BRANCH(R11, CX)
	INCQ R8
	INCQ R9
	INCQ R10
	INCQ R11
	NEXT
slow:
	JMP skip4stop<>(SB)

// MARK stores lane k's position (p - its base) in its marks at index AX.
#define MARK(k, p) \
	MOVQ MARKS(k)(BX), CX; \
	MOVQ p, DX; \
	SUBQ BASE(k)(BX), DX; \
	MOVL DX, (CX)(AX*4)

// skipMark: record each lane's position in marks[n].
TEXT skip4mark<>(SB), NOSPLIT|NOFRAME, $0
	MOVLQSX 4(SI), AX
	MOVQ    32(SP), BX
	MARK(0, R8)
	MARK(1, R9)
	MARK(2, R10)
	MARK(3, R11)
	NEXT

// The handlers by skipKind; skipCall always goes to Go.
DATA skip4table<>+0(SB)/8, $skip4fixed<>(SB)
DATA skip4table<>+8(SB)/8, $skip4varint<>(SB)
DATA skip4table<>+16(SB)/8, $skip4bytes<>(SB)
DATA skip4table<>+24(SB)/8, $skip4stop<>(SB)
DATA skip4table<>+32(SB)/8, $skip4nullfixed<>(SB)
DATA skip4table<>+40(SB)/8, $skip4nullvarint<>(SB)
DATA skip4table<>+48(SB)/8, $skip4nullbytes<>(SB)
DATA skip4table<>+56(SB)/8, $skip4null<>(SB)
DATA skip4table<>+64(SB)/8, $skip4mark<>(SB)
GLOBL skip4table<>(SB), RODATA, $72

// func skip4Table() unsafe.Pointer
TEXT ·skip4Table(SB), NOSPLIT, $0-8
	LEAQ skip4table<>(SB), AX
	MOVQ AX, ret+0(FP)
	RET
