package alifake_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/alilink/alilink/aliclient/alifake"
)

// Example serves a file and downloads it through a link, the way streamer
// tests use the fake without the API client.
func Example() {
	f := alifake.New(alifake.Options{PageSize: 7})
	if err := f.Start(); err != nil {
		panic(err)
	}
	defer f.Close()

	id := f.AddFile("/Movies/a b.mkv", []byte("hello"))
	link, err := f.DownloadURL(id, 0)
	if err != nil {
		panic(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(link)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body), resp.Header.Get("ETag"))
	// Output: 200 hello "AAF4C61DDCC5E8A2DABEDE0F3B482CD9AEA9434D"
}
