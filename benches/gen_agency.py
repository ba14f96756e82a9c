import random, sys
random.seed(7)
n_people = int(sys.argv[1]); n_coll = max(1, n_people // 20)
out = open(sys.argv[2], 'w')
out.write("id,name,bloc,kind,parent,period,xep_loai,tich_cuc_thi_dua,sang_kien,sang_kien_cap_tinh,doan_ket,phieu_tin_nhiem\n")
levels = ["HTXSNV", "HTTNV", "HTTNV", "HTNV", "KHTNV"]
for year in (2022, 2023, 2024):
    out.write(f"so,Sở,Khối,tap_the,,{year},HTXSNV,có,,,có,\n")
    for c in range(n_coll):
        out.write(f"c{c},Phòng {c},Khối,tap_the,so,{year},{random.choice(levels)},có,,,có,\n")
    for p in range(n_people):
        c = p % n_coll
        out.write(f"p{p},Người {p},Khối,ca_nhan,c{c},{year},{random.choice(levels)},{random.choice(['có','có','không'])},{random.choice(['có','không'])},{random.choice(['có','không','không'])},,{random.randint(50,100)}%\n")
