package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"sealdesk/hub/api"
	"sealdesk/signer/ses"
)

// The seal lifecycle in the app (issue 13): "apply for a seal" and "my applications and
// seals". Widgets only: what they do goes through callbacks the app wires to hub/holder's
// Service, the same steps sealctl runs.

func init() {
	for k, v := range lifecycleMessages {
		messages[k] = v
	}
}

var lifecycleMessages = map[string]map[Lang]string{
	"lc.apply.title":     {Chinese: "申请电子印章", English: "Apply for a seal"},
	"lc.unit":            {Chinese: "单位名称", English: "Unit"},
	"lc.sealName":        {Chinese: "印章名称", English: "Seal name"},
	"lc.type":            {Chinese: "印章类型", English: "Seal type"},
	"lc.contact":         {Chinese: "联系人及电话", English: "Contact"},
	"lc.key":             {Chinese: "绑定的密钥", English: "Key to bind"},
	"lc.newKey":          {Chinese: "在 USB Key 上生成新密钥", English: "Generate a new key on the USB key"},
	"lc.preview":         {Chinese: "印模预览（实际尺寸 %d×%d 毫米）", English: "Picture (true size %d×%d mm)"},
	"lc.submit":          {Chinese: "提交申请", English: "Submit"},
	"lc.missing":         {Chinese: "请填写：%s", English: "Please fill in: %s"},
	"lc.submitted":       {Chinese: "已提交申请 %s", English: "Application %s submitted"},
	"lc.mine.title":      {Chinese: "我的申请与印章", English: "My applications and seals"},
	"lc.applications":    {Chinese: "申请", English: "Applications"},
	"lc.seals":           {Chinese: "印章", English: "Seals"},
	"lc.none":            {Chinese: "（无）", English: "(none)"},
	"lc.suspend":         {Chinese: "停用", English: "Suspend"},
	"lc.resume":          {Chinese: "恢复", English: "Resume"},
	"lc.lost":            {Chinese: "挂失", English: "Report lost"},
	"lc.reason":          {Chinese: "原因", English: "Reason"},
	"lc.confirm":         {Chinese: "确定", English: "Confirm"},
	"lc.cancel":          {Chinese: "取消", English: "Cancel"},
	"lc.confirm.suspend": {Chinese: "停用印章 %s？停用期间不能签章。", English: "Suspend seal %s? It cannot sign while suspended."},
	"lc.confirm.active":  {Chinese: "恢复印章 %s？", English: "Resume seal %s?"},
	"lc.confirm.lost":    {Chinese: "挂失印章 %s？挂失不可撤销，印章将永久停止使用。", English: "Report seal %s lost? This is final: the seal can never sign again."},
	"lc.refresh":         {Chinese: "刷新", English: "Refresh"},
	"lc.st.draft":        {Chinese: "草稿", English: "draft"},
	"lc.st.submitted":    {Chinese: "已提交", English: "submitted"},
	"lc.st.returned":     {Chinese: "已退回", English: "returned"},
	"lc.st.resubmitted":  {Chinese: "已重新提交", English: "resubmitted"},
	"lc.st.approved":     {Chinese: "已批准", English: "approved"},
	"lc.st.rejected":     {Chinese: "已驳回", English: "rejected"},
	"lc.st.withdrawn":    {Chinese: "已注销", English: "withdrawn"},
	"lc.st.active":       {Chinese: "正常", English: "active"},
	"lc.st.suspended":    {Chinese: "已停用", English: "suspended"},
	"lc.st.revoked":      {Chinese: "已撤销", English: "revoked"},
	"lc.st.lost":         {Chinese: "已挂失", English: "reported lost"},
	"lc.st.filed":        {Chinese: "已备案，待下载", English: "filed, not yet on the key"},
}

func statusText(s string) string {
	if _, ok := messages["lc.st."+s]; ok {
		return T("lc.st." + s)
	}
	return s
}

// ApplyInput is what the application form collects.
type ApplyInput struct {
	Request api.ApplicationRequest
	KeyURI  string
	NewKey  bool
}

// ApplyForm is the "apply for a seal" dialog's content.
type ApplyForm struct {
	Unit, Name, Contact *widget.Entry
	Type, Key           *widget.Select
	NewKey              *widget.Check
	Preview             *canvas.Image
	PreviewLabel        *widget.Label
	Submit              *widget.Button
	Status              *widget.Label
	Box                 fyne.CanvasObject

	types []api.SealType
}

// NewApplyForm builds the form. types is the hub's seal type table, keys the key URIs the
// seal may bind; submit sends the application (and returns its error to show).
func NewApplyForm(unit string, types []api.SealType, keys []string, submit func(ApplyInput) (*api.Application, error)) *ApplyForm {
	f := &ApplyForm{types: types, Unit: widget.NewEntry(), Name: widget.NewEntry(), Contact: widget.NewEntry(),
		NewKey: widget.NewCheck(T("lc.newKey"), nil), Status: widget.NewLabel(""), PreviewLabel: widget.NewLabel("")}
	f.Unit.SetText(unit)
	var names []string
	for _, t := range types {
		names = append(names, t.Code+" "+t.Name)
	}
	f.Type = widget.NewSelect(names, func(string) { f.redraw() })
	f.Key = widget.NewSelect(keys, nil)
	if len(keys) > 0 {
		f.Key.SetSelected(keys[0])
	}
	f.Preview = canvas.NewImageFromImage(nil)
	f.Preview.FillMode = canvas.ImageFillContain
	f.Unit.OnChanged = func(string) { f.redraw() }
	f.Status.Wrapping = fyne.TextWrapWord
	f.Submit = widget.NewButton(T("lc.submit"), func() {
		in, missing := f.Input()
		if len(missing) > 0 {
			f.Status.SetText(Tf("lc.missing", strings.Join(missing, "、")))
			return
		}
		app, err := submit(in)
		if err != nil {
			f.Status.SetText(err.Error())
			return
		}
		f.Status.SetText(Tf("lc.submitted", app.ID))
	})
	f.Submit.Importance = widget.HighImportance
	if len(names) > 0 {
		f.Type.SetSelected(names[0])
	}
	form := widget.NewForm(
		widget.NewFormItem(T("lc.unit"), f.Unit),
		widget.NewFormItem(T("lc.sealName"), f.Name),
		widget.NewFormItem(T("lc.type"), f.Type),
		widget.NewFormItem(T("lc.contact"), f.Contact),
		widget.NewFormItem(T("lc.key"), container.NewVBox(f.Key, f.NewKey)),
	)
	f.Box = container.NewVBox(form, f.PreviewLabel, container.NewCenter(f.Preview), f.Submit, f.Status)
	return f
}

func (f *ApplyForm) sealType() (api.SealType, bool) {
	i := f.Type.SelectedIndex()
	if i < 0 || i >= len(f.types) {
		return api.SealType{}, false
	}
	return f.types[i], true
}

// redraw draws the picture the hub will generate, at the type's true size.
func (f *ApplyForm) redraw() {
	t, ok := f.sealType()
	if !ok || f.Preview == nil {
		return
	}
	img, err := ses.DrawPicture(ses.PictureOptions{RingText: f.Unit.Text, BottomText: t.Name, SizePx: 300})
	if err == nil {
		f.Preview.Image = img
	}
	f.Preview.SetMinSize(fyne.NewSize(float32(float64(t.WidthMM)*UnitsPerMM), float32(float64(t.HeightMM)*UnitsPerMM)))
	f.PreviewLabel.SetText(Tf("lc.preview", t.WidthMM, t.HeightMM))
	f.Preview.Refresh()
}

// Input returns what the form holds and the names of missing required fields.
func (f *ApplyForm) Input() (ApplyInput, []string) {
	var missing []string
	t, ok := f.sealType()
	for _, c := range []struct {
		v, name string
	}{{f.Name.Text, T("lc.sealName")}, {f.Contact.Text, T("lc.contact")}, {f.Key.Selected, T("lc.key")}} {
		if strings.TrimSpace(c.v) == "" {
			missing = append(missing, c.name)
		}
	}
	if !ok {
		missing = append(missing, T("lc.type"))
	}
	return ApplyInput{Request: api.ApplicationRequest{UnitName: f.Unit.Text, SealType: t.Code, SealName: f.Name.Text,
		Contact: f.Contact.Text, Submit: true}, KeyURI: f.Key.Selected, NewKey: f.NewKey.Checked}, missing
}

// SealsView is "my applications and seals": each application with its status and the
// reviewer's reason, each seal with its status and the suspend / resume / report-lost
// actions, each behind a confirmation.
type SealsView struct {
	Apps, Seals *fyne.Container
	Box         fyne.CanvasObject
	// Confirm is the open confirmation (nil when none): its reason entry and buttons.
	Confirm *ConfirmBox
	Error   *widget.Label

	load      func() ([]api.Application, []api.Seal, error)
	setStatus func(esID, status, reason string) error
	// Buttons maps "ESID/status" to the action button (tests tap them).
	Buttons map[string]*widget.Button
}

// ConfirmBox asks before a status change.
type ConfirmBox struct {
	Message    *widget.Label
	Reason     *widget.Entry
	OK, Cancel *widget.Button
	Box        fyne.CanvasObject
}

// NewSealsView builds the view; call Refresh to load it.
func NewSealsView(load func() ([]api.Application, []api.Seal, error), setStatus func(esID, status, reason string) error) *SealsView {
	v := &SealsView{Apps: container.NewVBox(), Seals: container.NewVBox(), Error: widget.NewLabel(""), load: load, setStatus: setStatus}
	v.Error.Wrapping = fyne.TextWrapWord
	head := func(k string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(T(k), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	v.Box = container.NewVBox(container.NewHBox(head("lc.mine.title"), widget.NewButton(T("lc.refresh"), v.Refresh)),
		head("lc.applications"), v.Apps, widget.NewSeparator(), head("lc.seals"), v.Seals, v.Error)
	return v
}

// Refresh reloads the lists.
func (v *SealsView) Refresh() {
	apps, seals, err := v.load()
	if err != nil {
		v.Error.SetText(err.Error())
		return
	}
	v.Error.SetText("")
	v.Buttons = map[string]*widget.Button{}
	v.Apps.RemoveAll()
	for _, a := range apps {
		line := fmt.Sprintf("%s  %s  %s  ·  %s", a.ID, a.SealType, a.SealName, statusText(a.Status))
		if a.Reason != "" {
			line += "  ·  " + T("lc.reason") + "：" + a.Reason
		}
		v.Apps.Add(widget.NewLabel(line))
	}
	if len(apps) == 0 {
		v.Apps.Add(widget.NewLabel(T("lc.none")))
	}
	v.Seals.RemoveAll()
	for _, s := range seals {
		row := container.NewHBox(widget.NewLabel(fmt.Sprintf("%s  %s  ·  %s", s.ESID, s.Name, statusText(s.Status))))
		for _, act := range actionsFor(s.Status) {
			esID, status := s.ESID, act
			b := widget.NewButton(T(map[string]string{api.StatusSuspended: "lc.suspend", api.StatusActive: "lc.resume", api.StatusLost: "lc.lost"}[act]),
				func() { v.ask(esID, status) })
			if act == api.StatusLost {
				b.Importance = widget.DangerImportance
			}
			v.Buttons[esID+"/"+act] = b
			row.Add(b)
		}
		v.Seals.Add(row)
	}
	if len(seals) == 0 {
		v.Seals.Add(widget.NewLabel(T("lc.none")))
	}
	// The lists changed size: lay the whole view out again.
	v.Apps.Refresh()
	v.Seals.Refresh()
	if c, ok := v.Box.(*fyne.Container); ok {
		c.Refresh()
	}
	if cv := fyne.CurrentApp().Driver().CanvasForObject(v.Box); cv != nil {
		cv.Content().Refresh()
	}
}

// actionsFor lists the status changes a holder may ask for (final statuses have none).
func actionsFor(status string) []string {
	switch status {
	case api.StatusActive:
		return []string{api.StatusSuspended, api.StatusLost}
	case api.StatusSuspended:
		return []string{api.StatusActive, api.StatusLost}
	case api.StatusFiled:
		return []string{api.StatusLost}
	}
	return nil
}

// ask shows the confirmation for changing esID to status.
func (v *SealsView) ask(esID, status string) {
	c := &ConfirmBox{Message: widget.NewLabel(Tf("lc.confirm."+status, esID)), Reason: widget.NewEntry()}
	c.Message.Wrapping = fyne.TextWrapWord
	c.Reason.SetPlaceHolder(T("lc.reason"))
	var pop *widget.PopUp
	done := func() {
		if pop != nil {
			pop.Hide()
		}
		v.Confirm = nil
	}
	c.OK = widget.NewButton(T("lc.confirm"), func() {
		if err := v.setStatus(esID, status, c.Reason.Text); err != nil {
			v.Error.SetText(err.Error())
		}
		done()
		v.Refresh()
	})
	c.OK.Importance = widget.HighImportance
	c.Cancel = widget.NewButton(T("lc.cancel"), done)
	items := []fyne.CanvasObject{c.Message}
	if status != api.StatusActive {
		items = append(items, c.Reason)
	}
	items = append(items, container.NewHBox(c.Cancel, c.OK))
	c.Box = container.NewPadded(container.NewVBox(items...))
	v.Confirm = c
	if cv := fyne.CurrentApp().Driver().CanvasForObject(v.Box); cv != nil {
		pop = widget.NewModalPopUp(c.Box, cv)
		pop.Resize(fyne.NewSize(420, pop.MinSize().Height))
		pop.Show()
	}
}
