//go:build !js

package main

import (
	"encoding/json"
	"os"
)

// main answers a JSON array of requests on stdin with the array of responses on stdout.
func main() {
	var requests []json.RawMessage
	if err := json.NewDecoder(os.Stdin).Decode(&requests); err != nil {
		panic(err)
	}
	responses := make([]json.RawMessage, len(requests))
	for i, r := range requests {
		responses[i] = render(r)
	}
	json.NewEncoder(os.Stdout).Encode(responses)
}
