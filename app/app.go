package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/medid/medid/credentials/openid4vp"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/wallet"
)

// Config configures [New]. Only WalletDir is required.
type Config struct {
	// WalletDir is the wallet folder (see wallet.Config.Dir).
	WalletDir string
	// RegistryURL is the registry used until the patient sets one in
	// Settings; "" means offline (did:key issuers only, no status lists
	// from the network, no did:medid registration).
	RegistryURL string
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
	// Connect builds the credential verifier and registry client for a
	// registry URL ("" = offline). Nil means [DefaultConnect].
	Connect func(registryURL string, now func() time.Time) (wallet.Verifier, wallet.Registry, error)
	// VaultURL is the hospital vault (access log) used until the patient
	// sets one in Settings; "" means none.
	VaultURL string
	// Consent manages consent grants; nil means the wallet's own consent
	// ([WalletServices]) whenever a registry is configured, and otherwise
	// the "add your hospital's address" state.
	Consent ConsentService
	// AccessLog reads who accessed the patient's records; nil means the
	// wallet's verified access trail ([WalletServices]) whenever a registry
	// and a vault are configured, and otherwise the "add your hospital's
	// address" state.
	AccessLog AccessLogService
	// KDF, Lockout and BackupWorkFactor are passed to the wallet (zero
	// values mean the wallet's defaults; tests lower them).
	KDF              wallet.KDFParams
	Lockout          wallet.LockoutPolicy
	BackupWorkFactor int
	// IdleCheck is how often the app asks the wallet whether it locked
	// itself after idle time; 0 means every 10 seconds, negative disables
	// the ticker (tests call the check directly).
	IdleCheck time.Duration
	// StartScreen, if set, selects a tab once the wallet is unlocked:
	// "credentials", "share", "consent", "access", "identities",
	// "settings", or "detail", "preview", "emergency", "licencecard",
	// "sharedetails", "acting", "check:CODE" or an openid4vp:// request
	// link to answer (used to take screenshots; see mainUI.selectScreen).
	StartScreen string
	// ReadyLog makes the app log "screen ready" (Info, attribute screen:
	// "welcome", "unlock", or after unlocking the StartScreen's name,
	// "answer" for a request link, "check" for a licence code,
	// "credentials" when none) once that screen has finished loading: no
	// background work in flight for half a second and every update it
	// queued for the window applied. The screenshot script waits for it
	// instead of guessing how long loading takes.
	ReadyLog bool
	// Logger receives operational events, never contents; nil discards.
	Logger *slog.Logger
	// HTTPClient makes every request of the app and its wallet (registry,
	// vault, issuers, verifiers): set it to trust a private CA (cmd/wallet
	// builds it from --ca / MEDID_CA). nil = a client with a 30 s timeout
	// and the system's roots.
	HTTPClient *http.Client
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// App is the wallet GUI. Make it with [New], show it with [App.Window],
// and Close it when the window is gone. Its methods are called on the Fyne
// main goroutine unless they say otherwise.
type App struct {
	cfg    Config
	ctx    context.Context // cancelled by Close; parent of every background operation
	cancel context.CancelFunc
	bg     sync.WaitGroup // background operations in flight
	busy   atomic.Int64   // how many: bg's count, readable (see announceReady)
	loops  sync.WaitGroup // tickers (auto-lock, lockout countdown); stop on ctx
	// manualUI (set by tests before Window) queues the UI updates of
	// background work instead of handing them to fyne.Do, whose test
	// driver would run them at once on the background goroutine, in
	// parallel with the test's own UI calls; [App.wait] runs them on the
	// test goroutine, as the real driver runs them on the main one.
	manualUI bool
	qmu      sync.Mutex // guards queue
	queue    []func()
	log      *slog.Logger

	verifier *switchVerifier // the wallet's verifier; swapped when the registry URL changes

	mu       sync.Mutex // guards registry and wallet (read by background goroutines)
	registry wallet.Registry
	regURL   string
	vaultURL string
	w        *wallet.Wallet

	fa   fyne.App
	win  fyne.Window
	root *fyne.Container // the screen being shown

	// Screens; nil when not built. Touched only on the main goroutine.
	setup  *setupUI
	unlock *unlockUI
	main   *mainUI

	namesMu sync.Mutex // guards namesC
	namesC  namesCache

	// notice is said once at the top of the main screen the next time it
	// is built (what a restore brought back). Main goroutine only.
	notice string
	// recheck asks the main screen, the next time it is built, to check
	// every record's status at once: a restored backup's statuses are as
	// old as the backup. Main goroutine only.
	recheck bool
}

// New checks cfg and returns an App. Nothing is opened until [App.Window].
func New(cfg Config) (*App, error) {
	if cfg.WalletDir == "" {
		return nil, errors.New("app config: WalletDir is empty: say where the wallet folder is")
	}
	if cfg.Connect == nil {
		cfg.Connect = ConnectWith(cfg.HTTPClient)
	}
	if cfg.IdleCheck == 0 {
		cfg.IdleCheck = 10 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &App{cfg: cfg, ctx: ctx, cancel: cancel, log: log, verifier: &switchVerifier{}, vaultURL: cfg.VaultURL}, nil
}

// Window makes the app's window in fa, opens the wallet folder and shows
// the first screen: first-run when there is no wallet, else unlock. It
// starts the auto-lock ticker. Call it once.
func (a *App) Window(fa fyne.App) fyne.Window {
	a.fa = fa
	applyThemePref(fa)
	a.win = fa.NewWindow("medid wallet")
	a.root = container.NewStack()
	a.win.SetContent(a.root)
	a.win.Resize(fyne.NewSize(960, 680))
	a.connect(a.cfg.RegistryURL)
	a.start()
	if a.cfg.IdleCheck > 0 {
		a.loop(func(ctx context.Context) {
			t := time.NewTicker(a.cfg.IdleCheck)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					a.checkIdle()
				}
			}
		})
	}
	return a.win
}

// Close stops background work, waits for it, and locks and closes the
// wallet. It is safe to call from any goroutine, more than once.
func (a *App) Close() error {
	a.cancel()
	a.bg.Wait()
	a.loops.Wait()
	a.mu.Lock()
	w := a.w
	a.w = nil
	a.mu.Unlock()
	if w != nil {
		return w.Close()
	}
	return nil
}

func (a *App) walletConfig() wallet.Config {
	return wallet.Config{
		Dir: a.cfg.WalletDir, Now: a.cfg.Now, KDF: a.cfg.KDF, Lockout: a.cfg.Lockout,
		Verifier: a.verifier, BackupWorkFactor: a.cfg.BackupWorkFactor, Logger: a.log,
		HTTPClient: a.cfg.HTTPClient,
	}
}

// wallet returns the open wallet (nil before one is created or opened).
// Safe from any goroutine.
func (a *App) wallet() *wallet.Wallet {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w
}

func (a *App) setWallet(w *wallet.Wallet) {
	a.mu.Lock()
	old := a.w
	a.w = w
	a.mu.Unlock()
	if old != nil && old != w {
		old.Close()
	}
}

// start opens the wallet folder and shows first-run or unlock.
func (a *App) start() {
	w, err := wallet.Load(a.walletConfig())
	switch {
	case errors.Is(err, wallet.ErrNoWallet):
		a.showWelcome()
		a.announceReady("welcome")
	case err != nil:
		a.show(problemScreen(err))
	default:
		a.setWallet(w)
		a.showUnlock()
		a.announceReady("unlock")
	}
}

// show replaces the window content.
func (a *App) show(o fyne.CanvasObject) {
	a.root.Objects = []fyne.CanvasObject{o}
	a.root.Refresh()
}

// unlocked is called once the wallet is open and unlocked: it reads the
// wallet's settings in the background, asks for three recovery words if
// the patient never confirmed them (quit during first run), else applies
// the settings and shows the main screen.
func (a *App) unlocked() {
	a.setup, a.unlock = nil, nil
	w := a.wallet()
	type state struct {
		set    wallet.Settings
		phrase string
	}
	load(a, func(context.Context) (state, error) {
		s, err := w.Settings()
		if err != nil || s.PhraseConfirmed {
			return state{set: s}, err
		}
		p, err := w.RecoveryPhrase()
		return state{set: s, phrase: p}, err
	}, func(st state, err error) {
		if err != nil {
			if errors.Is(err, wallet.ErrLocked) {
				a.showUnlock()
				return
			}
			a.show(problemScreen(err))
			return
		}
		if !st.set.PhraseConfirmed {
			a.log.Info("recovery phrase never confirmed; asking for it before the main screen")
			s := &setupUI{a: a, resumed: true, phrase: strings.Fields(st.phrase)}
			a.setup = s
			s.showConfirm()
			return
		}
		if st.set.Registry != "" && st.set.Registry != a.registryURL() {
			a.connect(st.set.Registry)
		}
		if st.set.Vault != "" {
			a.setVault(st.set.Vault)
		}
		a.main = newMainUI(a)
		a.show(a.main.content)
		if a.recheck {
			a.recheck = false
			a.main.creds.refreshRestored()
		}
		if a.cfg.StartScreen != "" {
			a.main.selectScreen(a.cfg.StartScreen)
		}
		a.announceReady(readyName(a.cfg.StartScreen))
	})
}

// markConfirmed records in the wallet's settings that the patient has the
// recovery phrase. Call it off the UI goroutine.
func markConfirmed(w *wallet.Wallet) error {
	s, err := w.Settings()
	if err != nil {
		return err
	}
	if s.PhraseConfirmed {
		return nil
	}
	s.PhraseConfirmed = true
	return w.SetSettings(s)
}

// vault is the hospital vault URL ("" = none). Safe from any goroutine.
func (a *App) vault() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.vaultURL
}

func (a *App) setVault(u string) {
	a.mu.Lock()
	a.vaultURL = u
	a.mu.Unlock()
}

// ledger is what the wallet's consent and access log need from the
// registry; *registry/client.Client is both.
type ledger interface {
	wallet.ConsentLedger
	vaultclient.AnchorSource
}

// walletServices returns the wallet's consent and access log over the
// registry and vault configured now (nil when no registry is, or the
// registry client cannot anchor consent).
func (a *App) walletServices() *WalletServices {
	w := a.wallet()
	l, ok := a.reg().(ledger)
	if w == nil || !ok {
		return nil
	}
	return &WalletServices{Wallet: w, Ledger: l, Anchors: l, VaultURL: a.vault(), Names: a.names}
}

// consentService is Config.Consent, else the wallet's own when a registry
// is configured, else nil.
func (a *App) consentService() ConsentService {
	if a.cfg.Consent != nil {
		return a.cfg.Consent
	}
	if s := a.walletServices(); s != nil {
		return s
	}
	return nil
}

// accessService is Config.AccessLog, else the wallet's verified trail when
// a registry and a vault are configured, else nil.
func (a *App) accessService() AccessLogService {
	if a.cfg.AccessLog != nil {
		return a.cfg.AccessLog
	}
	if s := a.walletServices(); s != nil && s.VaultURL != "" {
		return s
	}
	return nil
}

// lock locks the wallet and forgets every screen showing its contents.
func (a *App) lock() {
	if w := a.wallet(); w != nil {
		w.Lock()
	}
	a.main = nil
	a.showUnlock()
}

// checkIdle asks the wallet whether it locked itself after idle time and
// if so shows the unlock screen. Safe from any goroutine.
func (a *App) checkIdle() {
	w := a.wallet()
	if w == nil || !w.LockIfIdle() {
		return
	}
	a.do(func() {
		if a.main != nil {
			a.log.Info("wallet auto-locked; showing unlock screen")
			a.main = nil
			a.showUnlock()
		}
	})
}

// background runs work in a goroutine tied to the app's lifetime. work
// MUST touch widgets only through a.do (fyne.Do).
func (a *App) background(work func(ctx context.Context)) {
	a.bg.Add(1)
	a.busy.Add(1)
	go func() {
		defer a.bg.Done()
		defer a.busy.Add(-1) // after work queued its UI update (load)
		work(a.ctx)
	}()
}

// readyQuiet is how long nothing must be loading before a screen is
// announced ready (Config.ReadyLog), in polls of readyPoll: a load that
// starts another from its UI update never leaves a gap, but the window
// also needs a frame or two to draw what was applied.
const (
	readyPoll  = 100 * time.Millisecond
	readyQuiet = 5
)

// announceReady logs "screen ready" for screen once nothing has been
// loading for readyQuiet polls in a row, each after every UI update
// queued so far was applied (Config.ReadyLog; nothing without it).
// Safe from the main goroutine; it returns at once.
func (a *App) announceReady(screen string) {
	if !a.cfg.ReadyLog {
		return
	}
	a.loop(func(ctx context.Context) {
		t := time.NewTicker(readyPoll)
		defer t.Stop()
		for idle := 0; idle < readyQuiet; {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if a.busy.Load() != 0 {
				idle = 0
				continue
			}
			// Apply what finished work queued for the window (fyne.Do runs
			// in order), which may start more work.
			applied := make(chan struct{})
			a.do(func() { close(applied) })
			select {
			case <-ctx.Done():
				return
			case <-applied:
			}
			if a.busy.Load() != 0 {
				idle = 0
				continue
			}
			idle++
		}
		a.log.Info("screen ready", "screen", screen)
	})
}

// readyName is how announceReady names a StartScreen: never the request
// link or licence code itself.
func readyName(start string) string {
	switch {
	case start == "":
		return "credentials"
	case strings.HasPrefix(strings.ToLower(start), openid4vp.Scheme+"://"):
		return "answer"
	case strings.HasPrefix(start, "check:"):
		return "check"
	}
	return start
}

// do runs f on the Fyne main goroutine (fyne.Do). f MUST NOT block.
func (a *App) do(f func()) {
	if a.manualUI {
		a.qmu.Lock()
		a.queue = append(a.queue, f)
		a.qmu.Unlock()
		return
	}
	fyne.Do(f)
}

// doAndWait is do that returns once f has run (fyne.DoAndWait); with
// manualUI it only queues f.
func (a *App) doAndWait(f func()) {
	if a.manualUI {
		a.do(f)
		return
	}
	fyne.DoAndWait(f)
}

// load runs get in the background and hands its result to show on the UI
// goroutine. Screens read the wallet only this way: a wallet call can wait
// on the wallet's lock (RegisterDID holds it until the registry commits),
// and the window must not wait with it.
func load[T any](a *App, get func(ctx context.Context) (T, error), show func(T, error)) {
	a.background(func(ctx context.Context) {
		v, err := get(ctx)
		a.do(func() { show(v, err) })
	})
}

// loop runs a long-lived ticker goroutine that MUST return when ctx is
// done. Unlike background, [App.wait] does not wait for it.
func (a *App) loop(run func(ctx context.Context)) {
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		run(a.ctx)
	}()
}

// wait (for tests, with manualUI) runs background operations to the end
// and then their queued UI updates on the calling goroutine, until
// neither is left.
func (a *App) wait() {
	for {
		a.bg.Wait()
		a.qmu.Lock()
		q := a.queue
		a.queue = nil
		a.qmu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, f := range q {
			f()
		}
	}
}

// registryURL is the registry currently connected ("" = offline).
func (a *App) registryURL() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.regURL
}

// reg is the registry client, nil when offline. Safe from any goroutine.
func (a *App) reg() wallet.Registry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.registry
}

// connect (re)builds the verifier and registry client for u. On error
// the app stays offline and the error is logged (Settings shows it).
func (a *App) connect(u string) error {
	v, r, err := a.cfg.Connect(u, a.cfg.now)
	if err != nil {
		a.log.Warn("registry connection not configured", "err", err)
		v, r, _ = DefaultConnect("", a.cfg.now)
		u = ""
	}
	a.verifier.set(v)
	a.mu.Lock()
	a.registry, a.regURL = r, u
	a.mu.Unlock()
	return err
}

// switchVerifier is the wallet's Verifier; it forwards to the verifier of
// the registry currently configured.
type switchVerifier struct {
	mu sync.RWMutex // guards v
	v  wallet.Verifier
}

func (s *switchVerifier) set(v wallet.Verifier) {
	s.mu.Lock()
	s.v = v
	s.mu.Unlock()
}

func (s *switchVerifier) VerifyCredential(ctx context.Context, token string) wallet.Verdict {
	s.mu.RLock()
	v := s.v
	s.mu.RUnlock()
	if v == nil {
		return wallet.Verdict{Reason: "status_unavailable", Unavailable: true, Detail: "no verifier configured"}
	}
	return v.VerifyCredential(ctx, token)
}

// problemScreen explains an error that stops the app from starting.
func problemScreen(err error) fyne.CanvasObject {
	msg := widget.NewLabel(friendly(err))
	msg.Wrapping = fyne.TextWrapWord
	title := widget.NewLabelWithStyle("The wallet cannot be opened", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	return container.NewPadded(container.NewVBox(widget.NewIcon(theme.ErrorIcon()), title, msg))
}

// mainUI is the unlocked wallet: one tab per screen and a lock button.
type mainUI struct {
	a       *App
	content fyne.CanvasObject
	tabs    *container.AppTabs
	lockBtn *widget.Button
	// checkBtn opens "Check a practitioner" (check.go); check is the
	// dialog it opened last.
	checkBtn *widget.Button
	check    *checkUI

	creds    *credentialsUI
	share    *shareUI
	consent  *consentUI
	access   *accessUI
	ids      *identitiesUI
	settings *settingsUI
	people   *peopleUI       // nil until the wallet knows a delegation (people.go)
	practice *practitionerUI // nil until the wallet holds a licence (practitioner.go)
	items    map[string]*container.TabItem
	current  *container.TabItem // the tab shown
	notice   *note              // app-wide notice under the header
	dismiss  *widget.Button     // hides notice
}

func newMainUI(a *App) *mainUI {
	m := &mainUI{}
	m.creds = newCredentialsUI(a)
	m.share = newShareUI(a)
	m.consent = newConsentUI(a)
	m.access = newAccessUI(a)
	m.ids = newIdentitiesUI(a)
	m.settings = newSettingsUI(a)
	m.items = map[string]*container.TabItem{
		"credentials": container.NewTabItemWithIcon("My records", theme.DocumentIcon(), m.creds.content),
		"share":       container.NewTabItemWithIcon("Share", theme.MailSendIcon(), m.share.content),
		"consent":     container.NewTabItemWithIcon("Consent", theme.ConfirmIcon(), m.consent.content),
		"access":      container.NewTabItemWithIcon("Who looked", theme.VisibilityIcon(), m.access.content),
		"identities":  container.NewTabItemWithIcon("Identities", theme.AccountIcon(), m.ids.content),
		"settings":    container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), m.settings.content),
	}
	m.tabs = container.NewAppTabs(m.items["credentials"], m.items["share"], m.items["consent"],
		m.items["access"], m.items["identities"], m.items["settings"])
	m.tabs.SetTabLocation(container.TabLocationLeading)
	m.current = m.items["credentials"]
	m.tabs.OnSelected = func(ti *container.TabItem) {
		if m.current != nil && m.current != ti {
			clearNotes(m.current.Content) // what was said there is stale now
		}
		m.current = ti
		switch ti {
		case m.items["credentials"]:
			m.creds.reload()
		case m.items["share"]:
			m.share.reload()
		case m.items["consent"]:
			m.consent.reload()
		case m.items["access"]:
			m.access.reload()
		case m.items["identities"]:
			m.ids.reload()
		case m.items["settings"]:
			m.settings.refreshGlass()
		}
	}
	m.a = a
	m.lockBtn = widget.NewButtonWithIcon("Lock", theme.LoginIcon(), a.lock)
	m.checkBtn = widget.NewButtonWithIcon("Check a practitioner", theme.SearchIcon(), func() { m.check = a.showCheck() })
	header := container.NewBorder(nil, nil, nil, container.NewHBox(m.checkBtn, m.lockBtn),
		widget.NewLabelWithStyle("medid wallet", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	// App-wide notices (what a restore brought back) sit under the
	// header until the patient dismisses them.
	m.notice = newNote()
	m.dismiss = widget.NewButtonWithIcon("", theme.CancelIcon(), func() { m.notice.clear(); m.dismiss.Hide() })
	m.dismiss.Importance = widget.LowImportance
	m.dismiss.Hide()
	if a.notice != "" {
		m.notice.say(a.notice)
		m.dismiss.Show()
		a.notice = ""
	}
	m.content = container.NewBorder(container.NewVBox(header, container.NewBorder(nil, nil, nil, m.dismiss, m.notice)), nil, nil, nil, m.tabs)
	m.addPeople(a)
	m.addPractitioner(a)
	return m
}

// rebuildServices rebuilds the Consent and Who-looked screens after the
// registry or vault address changed.
func (m *mainUI) rebuildServices() {
	m.consent = newConsentUI(m.a)
	m.access = newAccessUI(m.a)
	m.items["consent"].Content = m.consent.content
	m.items["access"].Content = m.access.content
	m.tabs.Refresh()
}

// selectScreen shows the tab named name (see Config.StartScreen). More
// names exist for screenshots: "detail" opens the first allergy record
// (else the first record), "preview" shows that record as an offered one
// is previewed before it is added, "emergency" shows the emergency card,
// "licencecard" the My licence tab with the licence card, "sharedetails"
// "Choose details to share…" on the first SD-JWT record (its first detail
// ticked, for "City ER", scrolled to what they will see), "acting" the acting screen of the first
// delegation held, "check:TEXT" Check a practitioner with the code TEXT;
// an openid4vp:// link opens the Share screen answering that request.
func (m *mainUI) selectScreen(name string) {
	if strings.HasPrefix(strings.ToLower(name), openid4vp.Scheme+"://") {
		m.tabs.Select(m.items["share"])
		m.share.vp.fetch(name)
		return
	}
	switch name {
	case "detail":
		m.tabs.Select(m.items["credentials"])
		w := m.creds.a.wallet()
		load(m.creds.a, func(context.Context) ([]wallet.Credential, error) { return w.Credentials(wallet.Filter{}) },
			func(creds []wallet.Credential, err error) {
				if err != nil || len(creds) == 0 {
					return
				}
				pick := creds[0]
				for _, c := range creds {
					if kindOf(c.Types) == "allergy" {
						pick = c
						break
					}
				}
				m.creds.showDetail(pick)
			})
	case "preview":
		m.tabs.Select(m.items["credentials"])
		w := m.creds.a.wallet()
		load(m.creds.a, func(context.Context) (string, error) {
			creds, err := w.Credentials(wallet.Filter{})
			if err != nil || len(creds) == 0 {
				return "", err
			}
			pick := creds[0]
			for _, c := range creds {
				if kindOf(c.Types) == "allergy" {
					pick = c
					break
				}
			}
			full, err := w.Credential(pick.ID)
			return full.Token, err
		}, func(tok string, err error) {
			if err != nil || tok == "" {
				return
			}
			m.creds.showReceive()
			m.creds.showPreview([]string{tok})
		})
	case "emergency":
		m.tabs.Select(m.items["share"])
		m.share.showEmergency()
	case "licencecard":
		m.ensurePractitioner(m.a, func() {
			m.tabs.Select(m.items["licence"])
			m.practice.startCard()
			// Show the whole code, once it is made.
			p := m.practice
			load(m.a, func(ctx context.Context) (struct{}, error) {
				select {
				case <-time.After(2 * time.Second):
				case <-ctx.Done():
				}
				return struct{}{}, nil
			}, func(struct{}, error) { p.scroll.ScrollToBottom() })
		})
	case "sharedetails":
		m.tabs.Select(m.items["share"])
		a, w := m.a, m.a.wallet()
		load(a, func(ctx context.Context) (*shareChoice, error) {
			creds, err := w.Credentials(wallet.Filter{})
			for _, c := range creds {
				if c.Format == wallet.FormatSDJWT && presentable(standingOf(c, a.cfg.now()).status) {
					claims, _ := a.readClaims(ctx, w, c)
					return &shareChoice{cred: c, claims: claims, issuer: a.nameOf(ctx, c.Issuer)}, nil
				}
			}
			return nil, err
		}, func(ch *shareChoice, err error) {
			if err != nil || ch == nil {
				return
			}
			m.share.openDetails(ch, func(d *detailsUI) {
				for _, c := range d.checks {
					if strings.HasPrefix(c.Text, "What it is:") {
						c.SetChecked(true)
					}
				}
				d.who.SetText("City ER")
				// Show what they will see, once the preview is made.
				load(a, func(ctx context.Context) (struct{}, error) {
					select {
					case <-time.After(time.Second):
					case <-ctx.Done():
					}
					return struct{}{}, nil
				}, func(struct{}, error) { d.scroll.ScrollToBottom() })
			})
		})
	case "acting":
		a, w := m.a, m.a.wallet()
		load(a, func(context.Context) ([]wallet.Delegation, error) { return w.Delegations() },
			func(ds []wallet.Delegation, err error) {
				i := slices.IndexFunc(ds, func(d wallet.Delegation) bool {
					return d.Role == wallet.DelegationHeld && d.StatusAt(a.cfg.now()) == wallet.DelegationActive
				})
				if err != nil || i < 0 {
					return
				}
				m.ensurePeople(a, func() {
					m.tabs.Select(m.items["people"])
					m.people.actingNow = m.people.startActing(ds[i])
				})
			})
	default:
		if text, ok := strings.CutPrefix(name, "check:"); ok {
			m.check = m.a.showCheck()
			m.check.text.SetText(text)
			m.check.run(text)
			return
		}
		if ti, ok := m.items[name]; ok {
			m.tabs.Select(ti)
		}
	}
}

// UnlockWith submits passphrase on the unlock screen, as if typed (used to
// take screenshots of a demo wallet; the passphrase comes from an
// environment variable, never a flag). It does nothing unless the unlock
// screen is showing. Call it on the main goroutine, after Window.
func (a *App) UnlockWith(passphrase []byte) {
	if a.unlock == nil {
		return
	}
	a.unlock.pass.SetText(string(passphrase))
	a.unlock.submit()
}
