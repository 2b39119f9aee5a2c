package aliclienttest

import (
	"log/slog"
	"testing"

	"github.com/alilink/alilink/aliclient"
	"github.com/alilink/alilink/aliclient/alifake"
)

// Drivers are the three drivers, for tests that must hold for each.
var Drivers = []string{"drive", "open", "share"}

// SharePwd is the password of the share ConfigFor creates.
const SharePwd = "s3cr"

// ConfigFor is Config for any driver on a started fake: an open refresh
// token and the fake's app for "open", a password-protected share of the
// whole default drive for "share" (so drive paths are share paths).
func ConfigFor(tb testing.TB, fake *alifake.Fake, driver string) aliclient.Config {
	tb.Helper()
	cfg := Config(tb, fake)
	cfg.Driver = driver
	cfg.OpenURL = fake.APIURL()
	cfg.PassportURL = fake.APIURL()
	cfg.OpenClientID, cfg.OpenClientSecret = fake.OpenClientID(), fake.OpenClientSecret()
	cfg.OpenDriveType = "default"
	switch driver {
	case "open":
		cfg.RefreshToken = fake.NewOpenRefreshToken()
	case "share":
		cfg.ShareID = fake.AddShare("/", SharePwd)
		cfg.SharePwd = SharePwd
	}
	return cfg
}

// StartDriver is Start for any driver.
func StartDriver(tb testing.TB, driver string, opts alifake.Options, log *slog.Logger) (*alifake.Fake, aliclient.Drive) {
	tb.Helper()
	fake := alifake.New(opts)
	if err := fake.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fake.Close)
	c, err := aliclient.New(ConfigFor(tb, fake, driver), aliclient.Deps{Logger: log, Now: opts.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return fake, c
}

// Endpoints are a driver's names for its calls in the fake's counters.
type Endpoints struct {
	Token, List, Link string
	// Upload calls (none for share, which cannot write); parts are
	// "upload/part" for both APIs.
	Create, UploadURL, Complete string
}

// EndpointsOf names a driver's calls.
func EndpointsOf(driver string) Endpoints {
	switch driver {
	case "open":
		return Endpoints{Token: "open/token", List: "open/list", Link: "open/download_url",
			Create: "open/upload_create", UploadURL: "open/get_upload_url", Complete: "open/upload_complete"}
	case "share":
		// A share file is linked through its copy in the user's drive (spec §15).
		return Endpoints{Token: "token", List: "share/list", Link: "get_download_url"}
	default:
		return Endpoints{Token: "token", List: "file/list", Link: "get_download_url",
			Create: "upload/create", UploadURL: "upload/get_upload_url", Complete: "upload/complete"}
	}
}
