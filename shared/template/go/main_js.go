//go:build js

package main

import "syscall/js"

// main offers render to JavaScript as globalThis.tidemarkRender(requestJSON) -> responseJSON.
func main() {
	js.Global().Set("tidemarkRender", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return string(render([]byte(args[0].String())))
	}))
	select {}
}
