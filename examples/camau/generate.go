package camau

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
)

// Scale says how big a province to generate.
type Scale struct {
	Seed uint64
	// HamletsPerCommune is the average; the total is rounded and spread so
	// communes differ by at most one hamlet (old Cà Mau had about 863).
	HamletsPerCommune float64
	// HouseholdsPerHamlet is the average; each hamlet varies by ±20%.
	HouseholdsPerHamlet int
	// CommunesWithTeams, Teams and Members: teams are hamlet teams, spread
	// evenly over the first CommunesWithTeams communes (in code order after a
	// seeded shuffle), members spread evenly over teams.
	CommunesWithTeams int
	Teams             int
	Members           int
	// ReachedShare is the share of households in hamlets with a team that
	// got at least one visit or tutoring record in the period.
	ReachedShare float64
	// TutoringPerReached is the average number of tutoring records of a
	// reached household.
	TutoringPerReached float64
	// Reports in the period; ReportsResolved and ReportsReturned of them end
	// in those statuses, the rest are spread over the open statuses.
	Reports         int
	ReportsResolved int
	ReportsReturned int
	// From and To bound the period of visits, tutoring and reports (dates).
	From, To string
}

// Seed2023 is the province the seeds describe: the 2022 units, 45 of 101
// communes with teams, 343 teams, 1,610 members, and one month (July 2022,
// CaMau-G's first) of field reports: 142 received, 97 handled, 45 returned.
func Seed2023() Scale {
	return Scale{Seed: 2023, HamletsPerCommune: 8.55, HouseholdsPerHamlet: 20, CommunesWithTeams: 45, Teams: 343, Members: 1610,
		ReachedShare: 0.26, TutoringPerReached: 2, Reports: 142, ReportsResolved: 97, ReportsReturned: 45,
		From: "2022-07-01", To: "2022-07-31"}
}

// Province is the full-size target of the performance figures: about 863
// hamlets, 300,000 households, 1,000,000 tutoring records, 50,000 reports.
func Province() Scale {
	return Scale{Seed: 1, HamletsPerCommune: 8.55, HouseholdsPerHamlet: 348, CommunesWithTeams: 101, Teams: 863, Members: 4000,
		ReachedShare: 0.65, TutoringPerReached: 5.13, Reports: 50000, ReportsResolved: 34000, ReportsReturned: 12000,
		From: "2026-01-01", To: "2026-11-30"}
}

// Province2M is Province raised to about 2,000,000 rows (households and
// reports ×1.21, so visits and tutoring records follow): the size a
// provincial staff laptop's first clone is measured at (make bench-clone).
func Province2M() Scale {
	s := Province()
	s.HouseholdsPerHamlet = 422
	s.Reports = 60600
	s.ReportsResolved = 41200
	s.ReportsReturned = 14500
	return s
}

// Small is a province for demos and quick tests: every commune has hamlets,
// a handful of teams, a few thousand households.
func Small() Scale {
	return Scale{Seed: 7, HamletsPerCommune: 3, HouseholdsPerHamlet: 12, CommunesWithTeams: 6, Teams: 12, Members: 40,
		ReachedShare: 0.6, TutoringPerReached: 2, Reports: 60, ReportsResolved: 30, ReportsReturned: 10,
		From: "2026-09-01", To: "2026-11-30"}
}

// Team is a generated team with its members.
type Team struct {
	schema.Team
	Members []schema.Member
}

// Structure is the part of a province small enough to hold: units, hamlets,
// the 2025 home of every hamlet, teams and members.
type Structure struct {
	Units2022 []schema.AdminUnit // province, districts, communes as in the 2022 file
	Units2025 []schema.AdminUnit // province and communes as in the 2025 file
	Hamlets   []schema.AdminUnit // level hamlet, parent = 2022 commune
	// Hamlet2025 maps a hamlet code to the 2025 commune it belongs to. A 2022
	// commune split "in part" has its hamlets spread over the new communes
	// that took a share, which is what a real migration does.
	Hamlet2025 map[string]string
	Teams      []Team
}

// Sink receives the generated rows in order: a household before its visits,
// tutoring records and reports.
type Sink interface {
	Household(schema.Household) error
	Visit(schema.Visit) error
	Tutoring(schema.TutoringRecord) error
	Report(schema.FieldReport) error
}

// Counts tallies what a generation produced.
type Counts struct {
	Hamlets, Households, Visits, Tutoring, Reports int
	Reached                                        int
}

type gen struct {
	s   Scale
	rng *rand.Rand
}

func (g *gen) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := g.rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// BuildStructure makes the units, hamlets, teams and members of a scale.
func BuildStructure(s Scale) (*Structure, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	g := &gen{s: s, rng: rand.New(rand.NewPCG(s.Seed, 0x68616d6c6574))}
	st := &Structure{Units2022: schema.EmbeddedUnits2022(), Units2025: schema.EmbeddedUnits2025(), Hamlet2025: map[string]string{}}
	var communes []schema.AdminUnit
	for _, u := range st.Units2022 {
		if u.Level == schema.LevelCommune {
			communes = append(communes, u)
		}
	}
	total := int(math.Round(s.HamletsPerCommune * float64(len(communes))))
	for i, c := range communes {
		n := total / len(communes)
		if i < total%len(communes) {
			n++
		}
		kind, label := "ap", "Ấp"
		if c.Type == "phuong" {
			kind, label = "khom", "Khóm"
		}
		for h := 1; h <= n; h++ {
			st.Hamlets = append(st.Hamlets, schema.AdminUnit{Code: schema.HamletCode(c.Code, h), Name: hamletName(c.Code, h, label),
				Type: kind, Level: schema.LevelHamlet, ParentCode: c.Code})
		}
	}
	if err := st.mapHamletsTo2025(); err != nil {
		return nil, err
	}
	// Teams: a seeded choice of communes, each team covering one hamlet.
	order := slices.Clone(communes)
	g.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	withTeams := order[:s.CommunesWithTeams]
	slices.SortFunc(withTeams, func(a, b schema.AdminUnit) int { return strings.Compare(a.Code, b.Code) })
	hamletsOf := map[string][]schema.AdminUnit{}
	for _, h := range st.Hamlets {
		hamletsOf[h.ParentCode] = append(hamletsOf[h.ParentCode], h)
	}
	for i, c := range withTeams {
		n := s.Teams / len(withTeams)
		if i < s.Teams%len(withTeams) {
			n++
		}
		hs := hamletsOf[c.Code]
		if n > len(hs) {
			return nil, fmt.Errorf("commune %s has %d hamlets but needs %d hamlet teams: raise HamletsPerCommune", c.Code, len(hs), n)
		}
		for _, h := range hs[:n] {
			st.Teams = append(st.Teams, Team{Team: schema.Team{ID: g.uuid(), CommuneCode: c.Code, Name: "Tổ CNSCĐ " + h.Name,
				HamletCodes: []string{h.Code}}})
		}
	}
	for i := range st.Teams {
		n := s.Members / len(st.Teams)
		if i < s.Members%len(st.Teams) {
			n++
		}
		for m := 0; m < n; m++ {
			role := schema.RoleMember
			if m == 0 {
				role = schema.RoleLeader
			}
			st.Teams[i].Members = append(st.Teams[i].Members, schema.Member{ID: g.uuid(), TeamID: st.Teams[i].ID,
				Name: g.personName(), Role: role, Phone: g.phone()})
		}
	}
	return st, nil
}

func hamletName(commune string, n int, label string) string {
	// A few real names (data/README.md): the hamlets of old xã Đất Mũi.
	if commune == "32248" && n <= 4 {
		return []string{"Ấp Xóm Mũi", "Ấp Kênh Đào", "Ấp Cái Xép", "Ấp Khai Long"}[n-1]
	}
	return fmt.Sprintf("%s %d", label, n)
}

// mapHamletsTo2025 gives each hamlet its 2025 commune: a 2022 commune taken
// whole sends all its hamlets to one new commune; one split in parts sends
// them round-robin to the new communes that took a share.
func (st *Structure) mapHamletsTo2025() error {
	takers := map[string][]string{}
	for _, u := range st.Units2025 {
		for _, p := range u.FormedFrom {
			takers[p.Code] = append(takers[p.Code], u.Code)
		}
	}
	byCommune := map[string]int{}
	for _, h := range st.Hamlets {
		ts := takers[h.ParentCode]
		if into, ok := schema.InterimMergers[h.ParentCode]; ok && len(ts) == 0 {
			ts = takers[into]
		}
		if len(ts) == 0 {
			return fmt.Errorf("2022 commune %s is not among any 2025 commune's formed_from_codes", h.ParentCode)
		}
		st.Hamlet2025[h.Code] = ts[byCommune[h.ParentCode]%len(ts)]
		byCommune[h.ParentCode]++
	}
	return nil
}

func (s Scale) validate() error {
	switch {
	case s.HamletsPerCommune <= 0 || s.HouseholdsPerHamlet <= 0:
		return fmt.Errorf("scale needs HamletsPerCommune and HouseholdsPerHamlet above zero")
	case s.CommunesWithTeams < 1 || s.CommunesWithTeams > 101:
		return fmt.Errorf("CommunesWithTeams must be 1..101 (Cà Mau had 101 communes in 2022), got %d", s.CommunesWithTeams)
	case s.Teams < s.CommunesWithTeams || s.Members < s.Teams || s.Teams > 99*s.CommunesWithTeams:
		return fmt.Errorf("need at least one team per commune with teams and one member per team")
	case s.ReportsResolved+s.ReportsReturned > s.Reports:
		return fmt.Errorf("resolved (%d) plus returned (%d) reports exceed the %d reports", s.ReportsResolved, s.ReportsReturned, s.Reports)
	}
	if _, err := s.period(); err != nil {
		return err
	}
	return nil
}

func (s Scale) period() ([2]time.Time, error) {
	from, err1 := time.Parse(time.DateOnly, s.From)
	to, err2 := time.Parse(time.DateOnly, s.To)
	if err1 != nil || err2 != nil || to.Before(from) {
		return [2]time.Time{}, fmt.Errorf("scale period %q..%q: give From and To as YYYY-MM-DD, To not before From", s.From, s.To)
	}
	return [2]time.Time{from, to}, nil
}

var (
	familyNames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Bùi", "Đặng", "Đỗ", "Ngô", "Hồ", "Dương", "Lâm", "Tô", "Quách", "Danh", "Thạch"}
	middleNames = []string{"Văn", "Thị", "Minh", "Ngọc", "Hoàng", "Thanh", "Hữu", "Kim", "Quốc", "Thị Mỹ"}
	givenNames  = []string{"An", "Bình", "Cường", "Dung", "Em", "Giang", "Hạnh", "Hùng", "Khánh", "Lan", "Linh", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Tuấn", "Út", "Vân", "Xuân", "Yến"}
	streets     = []string{"Kênh Xáng", "Lộ Xe", "Bờ Đông", "Cái Nước", "Rạch Gốc", "Vàm Đình", "Chợ Mới", "Kinh Ngang"}
)

// reportKinds are, per report category (schema/refdata), what residents
// report in it and the agencies that handle it: a report's text and
// agency match its category, as leaders reading the example expect.
var reportKinds = map[string]struct{ texts, agencies []string }{
	"an_ninh_trat_tu": {[]string{
		"Nhóm thanh niên tụ tập đua xe, gây ồn ào vào ban đêm trên tuyến lộ ven kênh.",
		"Có người lạ thường xuyên lảng vảng quanh xóm, nghi trộm cắp tài sản của người dân.",
		"Quán karaoke mở nhạc lớn sau 22 giờ, ảnh hưởng giấc ngủ của các hộ xung quanh.",
	}, []string{"Công an xã"}},
	"ha_tang_do_thi": {[]string{
		"Mặt lộ bê tông bị sụt lún, nứt vỡ nhiều đoạn, xe qua lại nguy hiểm.",
		"Cầu gỗ bắc qua kênh bị mục, gãy ván, người đi bộ dễ té ngã.",
		"Vỉa hè bị lấn chiếm để buôn bán, người đi bộ phải đi xuống lòng đường.",
	}, []string{"UBND xã", "Phòng Kinh tế, Hạ tầng và Đô thị"}},
	"ve_sinh_moi_truong": {[]string{
		"Rác thải sinh hoạt tồn đọng nhiều ngày ở đầu hẻm, bốc mùi hôi.",
		"Cơ sở chế biến thủy sản xả nước thải chưa qua xử lý ra kênh.",
		"Xác động vật chết trôi dưới kênh chưa được vớt, gây ô nhiễm.",
	}, []string{"UBND xã", "Phòng Nông nghiệp và Môi trường"}},
	"gop_y_hien_ke": {[]string{
		"Đề nghị lắp thêm biển báo giảm tốc độ trước điểm trường tiểu học.",
		"Đề nghị bố trí điểm thu gom rác cố định cho các hộ ven sông.",
		"Đề nghị mở lớp hướng dẫn người cao tuổi sử dụng dịch vụ công trực tuyến.",
	}, []string{"UBND xã"}},
	"y_te_suc_khoe": {[]string{
		"Nhiều hộ có người bị sốt xuất huyết, đề nghị phun thuốc diệt muỗi trong ấp.",
		"Trạm y tế thiếu thuốc điều trị bệnh mãn tính cho người cao tuổi.",
		"Xe bán thức ăn đường phố trước cổng trường không bảo đảm vệ sinh an toàn thực phẩm.",
	}, []string{"Trung tâm Y tế", "Trạm Y tế xã"}},
	"giao_duc_dao_tao": {[]string{
		"Phòng học của điểm trường bị dột khi trời mưa, học sinh phải nghỉ học.",
		"Đường vào điểm trường ngập nước, học sinh đi học khó khăn.",
		"Đề nghị hỗ trợ học sinh có hoàn cảnh khó khăn để các em tiếp tục đến trường.",
	}, []string{"UBND xã", "Phòng Văn hóa – Xã hội"}},
	"dien_chieu_sang": {[]string{
		"Đèn chiếu sáng công cộng trên tuyến lộ bị hỏng, ban đêm tối om.",
		"Dây điện võng thấp, cây xanh chạm vào dây, có nguy cơ chập cháy.",
		"Cột điện nghiêng sau trận mưa giông, có nguy cơ ngã ra đường.",
	}, []string{"Điện lực Cà Mau"}},
	"cap_thoat_nuoc": {[]string{
		"Nước máy yếu và có mùi lạ, nhiều hộ không đủ nước sinh hoạt.",
		"Cống thoát nước bị tắc, mưa lớn là nước tràn vào nhà dân.",
		"Đường ống cấp nước bị bể, nước chảy lãng phí ra đường.",
	}, []string{"Cấp nước Cà Mau"}},
	"vi_pham_phap_luat": {[]string{
		"Có người khai thác cát trái phép trên sông vào ban đêm.",
		"Hộ dân xây nhà lấn chiếm hành lang bảo vệ kênh.",
		"Phát hiện điểm tụ tập đánh bạc đông người.",
	}, []string{"Công an xã"}},
	"linh_vuc_khac": {[]string{
		"Chó thả rông không rọ mõm trên đường, đã cắn người đi đường.",
		"Bến đò ngang không có áo phao cho hành khách.",
		"Bảng tin của ấp bị hư hỏng, thông báo không đến được người dân.",
	}, []string{"UBND xã"}},
}

// reportKind is what residents report in category code (a catalogue this
// example does not know gets its name as the text).
func reportKind(c schema.ReportCategory) (texts, agencies []string) {
	if k, ok := reportKinds[c.Code]; ok {
		return k.texts, k.agencies
	}
	return []string{"Phản ánh của người dân về " + strings.ToLower(c.NameVI) + "."}, []string{"UBND xã"}
}

func (g *gen) personName() string {
	return familyNames[g.rng.IntN(len(familyNames))] + " " + middleNames[g.rng.IntN(len(middleNames))] + " " + givenNames[g.rng.IntN(len(givenNames))]
}

func (g *gen) phone() string {
	prefixes := []string{"091", "094", "083", "084", "085", "032", "033", "097", "098", "070", "079"}
	return fmt.Sprintf("%s%07d", prefixes[g.rng.IntN(len(prefixes))], g.rng.IntN(10_000_000))
}

func (g *gen) dayIn(p [2]time.Time) time.Time {
	days := int(p[1].Sub(p[0]).Hours()/24) + 1
	return p[0].AddDate(0, 0, g.rng.IntN(days))
}

// Generate streams the rows of a province to sink. The structure must come
// from BuildStructure with the same scale.
func Generate(s Scale, st *Structure, sink Sink) (Counts, error) {
	var n Counts
	p, err := s.period()
	if err != nil {
		return n, err
	}
	g := &gen{s: s, rng: rand.New(rand.NewPCG(s.Seed, 0x726f7773))}
	volunteers := map[string][]string{} // hamlet → member ids of teams covering it
	for _, t := range st.Teams {
		for _, h := range t.HamletCodes {
			for _, m := range t.Members {
				volunteers[h] = append(volunteers[h], m.ID)
			}
		}
	}
	skills := schema.Skills()
	categories := schema.ReportCategories()
	loc := time.FixedZone("ICT", 7*3600)
	// Reports are spread over the hamlets with teams; quota per hamlet.
	var teamHamlets []string
	for _, h := range st.Hamlets {
		if len(volunteers[h.Code]) > 0 {
			teamHamlets = append(teamHamlets, h.Code)
		}
	}
	reportsLeft := s.Reports
	reportIndex := 0
	for _, h := range st.Hamlets {
		n.Hamlets++
		vols := volunteers[h.Code]
		count := s.HouseholdsPerHamlet + g.rng.IntN(s.HouseholdsPerHamlet*2/5+1) - s.HouseholdsPerHamlet/5
		if count < 1 {
			count = 1
		}
		// Reports filed from this hamlet: an even share of what is left.
		var quota int
		if len(vols) > 0 {
			idx := slices.Index(teamHamlets, h.Code)
			remaining := len(teamHamlets) - idx
			quota = reportsLeft / remaining
			if reportsLeft%remaining > 0 {
				quota++
			}
			reportsLeft -= quota
		}
		for i := 0; i < count; i++ {
			hh := schema.Household{ID: g.uuid(), HamletCode: h.Code, HeadName: g.personName(),
				Address: fmt.Sprintf("Số %d, %s, %s", 1+g.rng.IntN(300), streets[g.rng.IntN(len(streets))], h.Name),
				Phone:   g.phone(), MembersCount: 1 + g.rng.IntN(7), Active: g.rng.IntN(50) != 0,
				HasSmartphone: g.rng.IntN(10) < 7, RegisteredOn: p[0].AddDate(0, 0, -g.rng.IntN(400)).Format(time.DateOnly)}
			reached := len(vols) > 0 && g.rng.Float64() < s.ReachedShare
			var visits []schema.Visit
			var tutoring []schema.TutoringRecord
			if reached {
				n.Reached++
				for v := 0; v < 1+g.rng.IntN(2); v++ {
					visits = append(visits, schema.Visit{ID: g.uuid(), HamletCode: h.Code, HouseholdID: hh.ID,
						VolunteerID: vols[g.rng.IntN(len(vols))], VisitedOn: g.dayIn(p).Format(time.DateOnly)})
				}
				k := int(s.TutoringPerReached)
				if g.rng.Float64() < s.TutoringPerReached-float64(k) {
					k++
				}
				for _, si := range g.rng.Perm(len(skills))[:min(k, len(skills))] {
					sk := skills[si]
					out := schema.OutcomeIndependent
					if g.rng.IntN(10) < 3 {
						out = schema.OutcomeNeedsHelp
					}
					tutoring = append(tutoring, schema.TutoringRecord{ID: g.uuid(), HamletCode: h.Code, HouseholdID: hh.ID,
						VolunteerID: vols[g.rng.IntN(len(vols))], Skill: sk.Code, TaughtOn: g.dayIn(p).Format(time.DateOnly), Outcome: out})
					if out == schema.OutcomeIndependent {
						setFlag(&hh, sk.HouseholdFlag)
					}
				}
				// More than 5 skills: repeat lessons of skills already taught.
				for extra := k - len(skills); extra > 0; extra-- {
					sk := skills[g.rng.IntN(len(skills))]
					tutoring = append(tutoring, schema.TutoringRecord{ID: g.uuid(), HamletCode: h.Code, HouseholdID: hh.ID,
						VolunteerID: vols[g.rng.IntN(len(vols))], Skill: sk.Code, TaughtOn: g.dayIn(p).Format(time.DateOnly), Outcome: schema.OutcomeIndependent})
				}
			}
			if err := sink.Household(hh); err != nil {
				return n, fmt.Errorf("generate household %d of hamlet %s: %w", i, h.Code, err)
			}
			n.Households++
			for _, v := range visits {
				if err := sink.Visit(v); err != nil {
					return n, err
				}
				n.Visits++
			}
			for _, t := range tutoring {
				if err := sink.Tutoring(t); err != nil {
					return n, err
				}
				n.Tutoring++
			}
			// This household files its share of the hamlet's reports.
			share := quota / count
			if i < quota%count {
				share++
			}
			for r := 0; r < share; r++ {
				rep := g.report(hh, vols, categories, p, loc, reportIndex)
				reportIndex++
				if err := sink.Report(rep); err != nil {
					return n, err
				}
				n.Reports++
			}
		}
	}
	return n, nil
}

func setFlag(h *schema.Household, flag string) {
	switch flag {
	case "has_smartphone":
		h.HasSmartphone = true
	case "vneid_installed":
		h.VNeIDInstalled = true
	case "vneid_level2":
		h.VNeIDInstalled, h.VNeIDLevel2 = true, true
	case "uses_public_services":
		h.UsesPublicServices = true
	case "uses_cashless":
		h.UsesCashless = true
	case "has_ehealth_record":
		h.HasEHealthRecord = true
	}
}

// report makes the i-th report of the province. The first ReportsResolved
// are resolved, the next ReportsReturned returned, the rest open, so the
// totals match the scale exactly whatever the hamlet spread.
func (g *gen) report(hh schema.Household, vols []string, cats []schema.ReportCategory, p [2]time.Time, loc *time.Location, i int) schema.FieldReport {
	day := g.dayIn(p)
	submitted := time.Date(day.Year(), day.Month(), day.Day(), 6+g.rng.IntN(15), g.rng.IntN(60), 0, 0, loc)
	lat, lng := 8.6+g.rng.Float64()*1.0, 104.7+g.rng.Float64()*0.9
	// The text and the agency are the category's own: one draw each, as
	// before, so the rest of the generated province is unchanged.
	id, volunteer, cat := g.uuid(), vols[g.rng.IntN(len(vols))], cats[g.rng.IntN(len(cats))]
	texts, agencies := reportKind(cat)
	r := schema.FieldReport{ID: id, HamletCode: hh.HamletCode, HouseholdID: hh.ID, VolunteerID: volunteer,
		Category: cat.Code, Description: texts[g.rng.IntN(len(texts))],
		Location: hh.Address, Lat: &lat, Lng: &lng, OccurredAt: submitted.Add(-time.Duration(g.rng.IntN(48)) * time.Hour),
		ReporterName: hh.HeadName, ReporterPhone: hh.Phone, ConsentDisclose: g.rng.IntN(3) == 0, SubmittedAt: submitted,
		Status: schema.StatusSubmitted}
	// Most reports are dispatched within the two working hours; some late.
	dispatched := submitted.Add(time.Duration(20+g.rng.IntN(200)) * time.Minute)
	switch {
	case i < g.s.ReportsResolved:
		r.Status, r.Agency, r.DispatchedAt = schema.StatusResolved, agencies[g.rng.IntN(len(agencies))], dispatched
		r.ResolvedAt = dispatched.Add(time.Duration(60+g.rng.IntN(600)) * time.Minute)
		r.Satisfaction = 3 + g.rng.IntN(3)
	case i < g.s.ReportsResolved+g.s.ReportsReturned:
		r.Status = schema.StatusReturned
		r.StatusReason = []string{"Thủ tục hành chính, không thuộc phản ánh hiện trường", "Khiếu nại, tố cáo: chuyển theo quy định"}[g.rng.IntN(2)]
	default:
		r.Status = []schema.ReportStatus{schema.StatusSubmitted, schema.StatusDispatched, schema.StatusInProgress}[g.rng.IntN(3)]
		if r.Status != schema.StatusSubmitted {
			r.Agency, r.DispatchedAt = agencies[g.rng.IntN(len(agencies))], dispatched
		}
	}
	return r
}
