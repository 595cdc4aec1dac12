package engine

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"

	lua "github.com/yuin/gopher-lua"
)

// MaxRandomBytes caps crypto.randomBytes.
const MaxRandomBytes = 1 << 20

// hashes are the algorithms crypto.hmac and crypto.hash know.
func hashOf(alg string) (func() hash.Hash, bool) {
	switch alg {
	case "sha1":
		return sha1.New, true
	case "sha256":
		return sha256.New, true
	case "sha384":
		return sha512.New384, true
	case "sha512":
		return sha512.New, true
	case "md5":
		return md5.New, true
	}
	return nil, false
}

// encodeBytes writes b in one of the encodings: "hex", "base64",
// "base64url" (no padding) or "raw".
func encodeBytes(b []byte, enc string) (string, error) {
	switch enc {
	case "hex":
		return hex.EncodeToString(b), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(b), nil
	case "raw":
		return string(b), nil
	}
	return "", fmt.Errorf("unknown encoding %q (use hex, base64, base64url or raw)", enc)
}

func (v *vm) pushEncoded(L *lua.LState, call string, b []byte, n int, def string) int {
	s, err := encodeBytes(b, L.OptString(n, def))
	if err != nil {
		v.raise(L, call, err)
	}
	L.Push(lua.LString(s))
	return 1
}

// cryptoHMAC is crypto.hmac(algorithm, key, message, encoding?):
// sha1, sha256, sha384, sha512 or md5; hex unless another encoding is
// asked for.
func (v *vm) cryptoHMAC(L *lua.LState) int {
	alg, key, msg := L.CheckString(1), L.CheckString(2), L.CheckString(3)
	h, ok := hashOf(alg)
	if !ok {
		v.raise(L, "backend.crypto.hmac", fmt.Errorf("unknown algorithm %q (use sha1, sha256, sha384, sha512 or md5)", alg))
	}
	m := hmac.New(h, []byte(key))
	m.Write([]byte(msg))
	return v.pushEncoded(L, "backend.crypto.hmac", m.Sum(nil), 4, "hex")
}

// cryptoSHA256 is crypto.sha256(message, encoding?).
func (v *vm) cryptoSHA256(L *lua.LState) int {
	sum := sha256.Sum256([]byte(L.CheckString(1)))
	return v.pushEncoded(L, "backend.crypto.sha256", sum[:], 2, "hex")
}

// cryptoHash is crypto.hash(algorithm, message, encoding?).
func (v *vm) cryptoHash(L *lua.LState) int {
	alg := L.CheckString(1)
	h, ok := hashOf(alg)
	if !ok {
		v.raise(L, "backend.crypto.hash", fmt.Errorf("unknown algorithm %q (use sha1, sha256, sha384, sha512 or md5)", alg))
	}
	d := h()
	d.Write([]byte(L.CheckString(2)))
	return v.pushEncoded(L, "backend.crypto.hash", d.Sum(nil), 3, "hex")
}

// cryptoRandomBytes is crypto.randomBytes(n, encoding?), raw by default.
func (v *vm) cryptoRandomBytes(L *lua.LState) int {
	n := L.CheckInt(1)
	if n < 0 || n > MaxRandomBytes {
		v.raise(L, "backend.crypto.randomBytes", fmt.Errorf("n must be from 0 to %d", MaxRandomBytes))
	}
	b := make([]byte, n)
	rand.Read(b)
	return v.pushEncoded(L, "backend.crypto.randomBytes", b, 2, "raw")
}

// cryptoUUID is crypto.uuid(): a random UUID (RFC 9562 version 4).
func (v *vm) cryptoUUID(L *lua.LState) int {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	L.Push(lua.LString(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]))
	return 1
}

// cryptoEqual is crypto.equal(a, b): compares in time that does not depend
// on where they differ, for checking signatures.
func (v *vm) cryptoEqual(L *lua.LState) int {
	a, b := L.CheckString(1), L.CheckString(2)
	L.Push(lua.LBool(subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1))
	return 1
}
